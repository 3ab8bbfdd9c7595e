#include "metrics/svg_chart.hpp"

#include <gtest/gtest.h>

using namespace knee;

static int count(const std::string& s, const std::string& what) {
  int n = 0;
  for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

TEST(SvgChart, LineChartDrawsEverySeriesPointAndTheMarker) {
  LineChart c;
  c.title = "speedup <vs> ideal";
  c.log2_x = true;
  c.series.push_back({"simulated", {8, 16, 32, 64}, {1, 1.9, 3.5, 5.0}, false});
  c.series.push_back({"ideal", {8, 16, 32, 64}, {1, 2, 4, 8}, true});
  c.mark_x = 32;
  c.mark_label = "knee";
  std::string s = c.svg();
  EXPECT_EQ(count(s, "<polyline"), 2);
  EXPECT_EQ(count(s, "<circle"), 8);
  EXPECT_EQ(count(s, "stroke-dasharray=\"6,4\""), 1);
  EXPECT_NE(s.find("speedup &lt;vs&gt; ideal"), std::string::npos);  // escaped
  EXPECT_NE(s.find(">knee<"), std::string::npos);
  EXPECT_EQ(s.rfind("<svg", 0), 0u);
  EXPECT_EQ(s.substr(s.size() - 6), "</svg>");
}

TEST(SvgChart, StackedBarsHaveOneRectPerPartAndCategory) {
  StackedBars b;
  b.categories = {"8", "16", "32"};
  b.parts = {"compute", "exposed comm", "bubble"};
  b.values = {{1, 1, 1}, {0.1, 0.2, 0.4}, {0, 0.05, 0.1}};
  std::string s = b.svg();
  EXPECT_EQ(count(s, "<rect"), 3 * 3 + 3);  // bars plus legend swatches
  EXPECT_NE(s.find("exposed comm: 0.4"), std::string::npos);
}
