#include "json_line.hpp"

#include <cmath>

namespace rill::cli {

double rounded(double x, int decimals) {
  auto scale = std::pow(10.0, decimals);
  return std::round(x * scale) / scale;
}

int64_t whole(double x) {
  return std::llround(x);
}

} // namespace rill::cli
