#include "sse_clients.hpp"
#include "bench.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace rill::cli {

namespace {

struct client {
  int fd = -1;
  std::string request;
  size_t sent = 0;
  bool answered = false;
  /// Bytes after the last complete line.
  std::string partial;
};

/// Reads the complete lines of `c` ending in `data` (n bytes).
void take_lines(client& c, const char* data, size_t n, sse_client_stats& stats, uint64_t& count,
                int64_t now_us) {
  static const char ts_key[] = "\"ts\":\"";
  c.partial.append(data, n);
  size_t pos = 0;
  for (;;) {
    auto end = c.partial.find('\n', pos);
    if (end == std::string::npos)
      break;
    const char* line = c.partial.data() + pos;
    size_t len = end - pos;
    if (!c.answered) {
      if (len >= 12 && std::memcmp(line, "HTTP/1.1 200", 12) == 0) {
        c.answered = true;
        ++stats.connected;
      } else if (len >= 5 && std::memcmp(line, "HTTP/", 5) == 0) {
        ++stats.failed;
      }
    } else if (len > 6 && std::memcmp(line, "data: ", 6) == 0) {
      ++count;
      ++stats.events;
      std::string_view text{line, len};
      if (auto at = text.find(ts_key); at != std::string_view::npos) {
        int64_t ts = 0;
        for (auto i = at + sizeof ts_key - 1; i < text.size() && text[i] >= '0' && text[i] <= '9';
             ++i)
          ts = ts * 10 + (text[i] - '0');
        if (ts > 0)
          stats.latencies_us.push_back(static_cast<float>(now_us - ts));
      }
    }
    pos = end + 1;
  }
  c.partial.erase(0, pos);
}

} // namespace

void run_sse_clients(const sse_client_plan& plan, sse_client_stats& stats) {
  auto cpu0 = bench::usage::this_thread();
  int ep = epoll_create1(0);
  std::vector<client> clients(plan.targets.size());
  stats.per_client.assign(clients.size(), 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(plan.port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (size_t i = 0; i < clients.size(); ++i) {
    auto& c = clients[i];
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c.fd < 0) {
      ++stats.failed;
      continue;
    }
    c.request
      = "GET " + plan.targets[i] + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n";
    if (i < plan.headers.size() && !plan.headers[i].empty())
      c.request += plan.headers[i] + "\r\n";
    c.request += "\r\n";
    connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr); // EINPROGRESS
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
  }
  std::vector<epoll_event> ready(1024);
  std::vector<char> buf(1 << 16);
  while (!stats.stop.load(std::memory_order_relaxed)) {
    int n = epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), 100);
    auto now_us = bench::epoch_us();
    for (int k = 0; k < n; ++k) {
      auto i = ready[k].data.u64;
      auto& c = clients[i];
      if (c.fd < 0)
        continue;
      if ((ready[k].events & EPOLLOUT) && c.sent < c.request.size()) {
        auto w = send(c.fd, c.request.data() + c.sent, c.request.size() - c.sent, MSG_NOSIGNAL);
        if (w > 0)
          c.sent += static_cast<size_t>(w);
        if (c.sent == c.request.size()) {
          epoll_event ev{};
          ev.events = EPOLLIN | EPOLLRDHUP;
          ev.data.u64 = i;
          epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
        }
      }
      if (ready[k].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        for (;;) {
          auto r = recv(c.fd, buf.data(), buf.size(), 0);
          if (r > 0) {
            take_lines(c, buf.data(), static_cast<size_t>(r), stats, stats.per_client[i], now_us);
            continue;
          }
          if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
            close(c.fd);
            c.fd = -1;
            ++stats.failed;
          }
          break;
        }
      }
    }
  }
  for (auto& c : clients)
    if (c.fd >= 0)
      close(c.fd);
  close(ep);
  stats.cpu_s = (bench::usage::this_thread() - cpu0).cpu_s();
}

} // namespace rill::cli
