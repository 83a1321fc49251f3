#include "child_process.hpp"

#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <sched.h>
#include <sstream>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace rill::bench {

using clock_type = std::chrono::steady_clock;

std::string self_exe() {
  char buf[4096];
  auto n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0)
    throw std::runtime_error("cannot find this binary (/proc/self/exe)");
  return std::string(buf, static_cast<size_t>(n));
}

child::child(std::vector<std::string> args, const std::string& out, const std::string& err,
             std::vector<int> cpus) {
  // Everything the child needs is ready before fork: it only dups and execs.
  auto exe = self_exe();
  std::vector<char*> argv{exe.data()};
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  cpu_set_t mask;
  CPU_ZERO(&mask);
  for (int c : cpus)
    CPU_SET(c, &mask);
  int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  auto parent = ::getpid();
  pid_ = o < 0 || e < 0 ? -1 : ::fork();
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent)
      ::_exit(1);
    if (!cpus.empty())
      ::sched_setaffinity(0, sizeof mask, &mask);
    ::dup2(o, 1);
    ::dup2(e, 2);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(o);
  ::close(e);
  if (pid_ < 0)
    throw std::runtime_error("cannot start a process of this binary (" + out + ")");
}

child::~child() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

int child::wait(std::chrono::milliseconds limit) {
  auto until = clock_type::now() + limit;
  for (;;) {
    int status = 0;
    rusage ru{};
    if (::wait4(pid_, &status, WNOHANG, &ru) == pid_) {
      pid_ = -1;
      cpu_s_ = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec
               + ru.ru_stime.tv_usec / 1e6;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    if (clock_type::now() >= until)
      return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
}

int child::stop(std::chrono::milliseconds limit) {
  ::kill(pid_, SIGTERM);
  return wait(limit);
}

std::string slurp(const std::string& path) {
  std::ifstream in{path};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace rill::bench
