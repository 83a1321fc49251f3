#include "percentile.hpp"

#include <algorithm>

namespace rill::cli {

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty())
    return 0;
  auto i = static_cast<size_t>(p / 100.0 * (sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

summary summarize(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  summary s;
  s.min = xs.front();
  s.max = xs.back();
  auto m = xs.size() / 2;
  s.median = xs.size() % 2 == 1 ? xs[m] : (xs[m - 1] + xs[m]) / 2;
  return s;
}

} // namespace rill::cli
