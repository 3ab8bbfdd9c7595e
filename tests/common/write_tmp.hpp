// Test helper shared by the suites: writes `text` to a file in the test temp folder, returns its path.
#pragma once
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace knee::test {

inline std::string write_tmp(const std::string& name, const std::string& text) {
  std::string path = testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

}  // namespace knee::test
