#pragma once

// The one percentile and median of the rill binary (bench cases, --measure-latency).

#include <vector>

namespace rill::cli {

/// Percentile `p` (0..100) of sorted `xs`: the nearest rank, 0 if empty.
double percentile(const std::vector<double>& sorted, double p);

/// Median, min and max of `xs` (not empty).
struct summary {
  double median = 0;
  double min = 0;
  double max = 0;
};
summary summarize(std::vector<double> xs);

} // namespace rill::cli
