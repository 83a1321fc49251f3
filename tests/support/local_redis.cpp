#include <rill/testing/local_redis.hpp>

#include <rill/actors/error.hpp>
#include <rill/testing/blocking_client.hpp>

#include <arpa/inet.h>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace rill {

uint16_t free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0
      && ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

namespace {

bool exited(pid_t pid) {
  int status = 0;
  return ::waitpid(pid, &status, WNOHANG) == pid;
}

} // namespace

caf::expected<local_redis> local_redis::start(options opts) {
  local_redis result;
  result.opts_ = std::move(opts);
  char tmpl[] = "/tmp/rill-redis-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr)
    return make_error(sec::invalid_config, std::string{"mkdtemp: "} + std::strerror(errno));
  result.dir_ = tmpl;
  // A free port can be taken between probing and binding: try a few.
  caf::error last;
  for (int attempt = 0; attempt < 5; ++attempt) {
    result.port_ = free_loopback_port();
    if (!(last = result.launch()))
      return caf::expected<local_redis>{std::move(result)};
  }
  return last;
}

caf::error local_redis::launch() {
  std::vector<std::string> args{"redis-server",
                                "--port",
                                std::to_string(port_),
                                "--bind",
                                "127.0.0.1",
                                "--dir",
                                dir_,
                                "--save",
                                "",
                                "--daemonize",
                                "no",
                                "--logfile",
                                dir_ + "/redis.log",
                                "--appendonly",
                                opts_.aof ? "yes" : "no"};
  if (opts_.aof) {
    args.insert(args.end(), {"--appendfsync", "always"});
  }
  if (!opts_.password.empty())
    args.insert(args.end(), {"--requirepass", opts_.password});
  args.insert(args.end(), opts_.extra_args.begin(), opts_.extra_args.end());
  auto parent = ::getpid();
  auto pid = ::fork();
  if (pid < 0)
    return make_error(sec::invalid_config, std::string{"fork: "} + std::strerror(errno));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent)
      ::_exit(1);
    int devnull = ::open("/dev/null", O_RDWR);
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp("redis-server", argv.data());
    ::_exit(127);
  }
  pid_ = pid;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds{10};
  while (std::chrono::steady_clock::now() < until) {
    if (exited(pid_)) {
      pid_ = -1;
      return make_error(sec::connect_failed,
                        "redis-server exited at start (port " + std::to_string(port_)
                          + " taken, or redis-server not installed); log: " + dir_ + "/redis.log");
    }
    if (auto c = blocking_client::connect("127.0.0.1", port_, std::chrono::milliseconds{200})) {
      std::vector<std::string> ping{"PING"};
      if (!opts_.password.empty())
        ping = {"AUTH", opts_.password};
      if (c->command(ping))
        return caf::none;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  stop();
  return make_error(sec::connect_failed, "redis-server did not answer within 10 s");
}

local_redis::local_redis(local_redis&& other) noexcept :
  opts_(std::move(other.opts_)), dir_(std::move(other.dir_)), port_(other.port_), pid_(other.pid_) {
  other.pid_ = -1;
  other.dir_.clear();
}

local_redis::~local_redis() {
  stop();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string local_redis::address() const {
  return "127.0.0.1:" + std::to_string(port_);
}

void local_redis::stop() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 500; ++i) {
    if (exited(pid_)) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

caf::error local_redis::restart() {
  stop();
  return launch();
}

} // namespace rill
