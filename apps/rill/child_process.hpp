#pragma once

// Child processes of the rill binary for the benches that need several
// (`rill bench nodes`, `rill bench gateway`).

#include <chrono>
#include <string>
#include <sys/types.h>
#include <vector>

namespace rill::bench {

/// This binary's path (/proc/self/exe).
std::string self_exe();

/// A child process of this binary, stdout to a file, stderr to another; killed
/// with its parent (PR_SET_PDEATHSIG) and on destruction. `cpus` (if any):
/// the cores it may run on.
class child {
public:
  child(std::vector<std::string> args, const std::string& out, const std::string& err,
        std::vector<int> cpus = {});
  child(const child&) = delete;
  child& operator=(const child&) = delete;
  ~child();

  /// Waits up to `limit` for the exit; returns the exit code (-1: still running
  /// or killed by a signal).
  int wait(std::chrono::milliseconds limit);

  /// User + system CPU of the process, once it exited.
  double cpu_s() const noexcept { return cpu_s_; }

  /// SIGTERM (a graceful stop), then waits up to `limit`.
  int stop(std::chrono::milliseconds limit);

  pid_t pid() const noexcept { return pid_; }

private:
  pid_t pid_ = -1;
  double cpu_s_ = 0;
};

/// The whole file.
std::string slurp(const std::string& path);

} // namespace rill::bench
