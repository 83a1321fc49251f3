#include "commands.hpp"

#include <cstdio>
#include <iostream>
#include <unistd.h>

namespace rill::cli {

namespace {

bool progress_shown = false;

} // namespace

void progress(const std::string& line) {
  if (!::isatty(STDERR_FILENO))
    return;
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
  progress_shown = true;
}

void progress_done() {
  if (progress_shown)
    std::fputc('\n', stderr);
  progress_shown = false;
}

std::string grouped(uint64_t value) {
  auto digits = std::to_string(value);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return out;
}

int config_error(const std::string& command, const std::string& what) {
  std::cerr << "rill " << command << ": " << what << std::endl;
  return exit_config_error;
}

} // namespace rill::cli
