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

TEST(SvgChart, ChartsScaleWithTheirContainer) {
  LineChart c;
  c.series.push_back({"s", {1, 2}, {1, 2}, false});
  StackedBars b;
  b.categories = {"8"};
  b.parts = {"compute"};
  b.values = {{1}};
  for (const std::string& s : {c.svg(), b.svg(960, 400)}) {
    const std::string tag = s.substr(0, s.find('>'));
    EXPECT_NE(tag.find(" width=\"100%\""), std::string::npos) << tag;
    EXPECT_EQ(tag.find(" height="), std::string::npos) << tag;  // the viewBox's aspect ratio gives it
  }
  EXPECT_NE(c.svg().find("viewBox=\"0 0 640 360\""), std::string::npos);
  EXPECT_NE(b.svg(960, 400).find("viewBox=\"0 0 960 400\""), std::string::npos);
}

TEST(SvgChart, LogTicksArePowersOfTenOrOneTwoFive) {
  using V = std::vector<double>;
  EXPECT_EQ(log_ticks(1, 2048), (V{1, 10, 100, 1000, 10000}));
  EXPECT_EQ(log_ticks(0.02, 900), (V{0.01, 0.1, 1, 10, 100, 1000}));
  EXPECT_EQ(log_ticks(1, 1000), (V{1, 10, 100, 1000}));
  EXPECT_EQ(log_ticks(1, 100), (V{1, 2, 5, 10, 20, 50, 100}));  // two decades: 1-2-5
  EXPECT_EQ(log_ticks(0.7, 30), (V{0.5, 1, 2, 5, 10, 20, 50}));
  EXPECT_EQ(log_ticks(1, 3), (V{1, 2, 5}));
  EXPECT_EQ(log_ticks(1, 10), (V{1, 2, 5, 10}));
  EXPECT_EQ(log_ticks(3, 3), (V{2, 5}));
}

namespace {
// The y of each left-axis tick label, by its text.
std::vector<std::pair<std::string, double>> y_tick_labels(const std::string& s) {
  std::vector<std::pair<std::string, double>> r;
  const std::string end = "\" text-anchor=\"end\" font-size=\"11\">";
  for (auto p = s.find(end); p != std::string::npos; p = s.find(end, p + 1)) {
    const auto y = s.rfind("y=\"", p) + 3;
    const auto t = p + end.size();
    r.emplace_back(s.substr(t, s.find('<', t) - t), std::stod(s.substr(y, p - y)));
  }
  return r;
}
}  // namespace

TEST(SvgChart, LogYPlacesEachDecadeEqually) {
  LineChart c;  // 640 x 360: the plot spans y 36 (top) to 310 (bottom)
  c.log2_x = c.log_y = true;
  c.series.push_back({"speedup", {8, 64, 512, 4096, 16384}, {1, 7.9, 60, 1000, 2048}, false});
  const std::string s = c.svg();
  const auto ticks = y_tick_labels(s);
  ASSERT_EQ(ticks.size(), 5u);
  const char* names[] = {"1", "10", "100", "1,000", "10,000"};
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(ticks[i].first, names[i]);
    EXPECT_NEAR(ticks[i].second, 310 + 4 - 274 * i / 4.0, 0.051) << names[i];  // labels sit 4 below their line
  }
  EXPECT_NE(s.find("cy=\"310.0\""), std::string::npos);  // 1: the bottom
  EXPECT_NE(s.find("cy=\"104.5\""), std::string::npos);  // 1000: three decades of four up
  EXPECT_NE(s.find("cy=\"83.2\""), std::string::npos);   // 2048: log10(2048) / 4 of the way
  // Values <= 0 cannot be drawn on a log axis: left out, not NaN coordinates.
  c.series[0].y[0] = 0;
  EXPECT_EQ(count(c.svg(), "<circle"), 4);
  EXPECT_EQ(c.svg().find("nan"), std::string::npos);
}

TEST(SvgChart, ASecondAxisOnTheRight) {
  LineChart c;
  c.log2_x = true;
  c.y2_label = "cost (USD)";
  c.series.push_back({"days", {8, 16, 32}, {40, 21, 14}, false});
  c.series.push_back({"cost", {8, 16, 32}, {1e6, 1.5e6, 2e6}, false, true});
  const std::string s = c.svg();
  EXPECT_NE(s.find(">cost (USD)<"), std::string::npos);
  for (const char* t : {">0<", ">0.5M<", ">1M<", ">1.5M<", ">2M<"})  // one unit for the axis
    EXPECT_NE(s.find(std::string("text-anchor=\"start\" font-size=\"11\"") + t), std::string::npos) << t;
  EXPECT_NE(s.find("cy=\"36.0\""), std::string::npos);  // $2M at the top of the right axis
  EXPECT_NE(s.find(">40<"), std::string::npos);         // the left axis: days, 0 to 40
  EXPECT_EQ(s.find("e+"), std::string::npos);
}

TEST(SvgChart, TickLabelsWithoutExponents) {
  EXPECT_EQ(tick_label(0), "0");
  EXPECT_EQ(tick_label(0.25), "0.25");
  EXPECT_EQ(tick_label(0.30000000000000004), "0.3");
  EXPECT_EQ(tick_label(16384), "16,384");
  EXPECT_EQ(tick_label(472000), "472,000");
  EXPECT_EQ(tick_label(2.5e6), "2.5M");
  EXPECT_EQ(tick_label(3e11), "300B");
  EXPECT_EQ(tick_label(0.005), "0.005");
}
