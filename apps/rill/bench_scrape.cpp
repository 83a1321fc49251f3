// `rill bench scrape`: what /metrics and /readyz cost with --streams S
// consumers in one process - answer time and size - scraped like Prometheus
// does (one GET per connection, from a plain thread).

#include "bench.hpp"
#include "commands.hpp"
#include <rill/actors/error.hpp>
#include <rill/runtime/runtime.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <thread>

namespace rill::bench {

namespace {

namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

/// One GET on its own connection: (ms to the whole body, body bytes).
std::pair<double, size_t> timed_get(uint16_t port, const std::string& target) {
  boost::asio::io_context io;
  tcp::socket socket{io};
  auto start = steady_ns();
  socket.connect(tcp::endpoint{boost::asio::ip::make_address("127.0.0.1"), port});
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  http::write(socket, req);
  boost::beast::flat_buffer buf;
  http::response_parser<http::string_body> res;
  res.body_limit(256 * 1024 * 1024);
  http::read(socket, buf, res);
  auto ms = (steady_ns() - start) / 1e6;
  return {ms, res.get().body().size()};
}

} // namespace

int scrape_case(cli_config& cfg) {
  const uint64_t streams = std::max<uint64_t>(1, cfg.streams);
  target t;
  if (auto err = t.open(cfg))
    return cli::config_error("bench scrape", describe(err));
  auto c = connect_or_throw(cfg.redis.host, cfg.redis.port);
  for (uint64_t i = 0; i < streams; ++i)
    prefill(c, "bench:scrape:" + std::to_string(i), "g", 10, cfg.payload_bytes);
  if (cfg.http.listen.empty())
    cfg.http.listen = "0";
  cfg.http.token.clear();
  runtime rt{cfg};
  for (uint64_t i = 0; i < streams; ++i)
    rt.add_consumer(bench_consumer("bench:scrape:" + std::to_string(i), cfg.consumer.max_in_flight))
      .add([](const stream_entry&) {});
  rt.start();
  // Scrape once every group probe has answered: every series is there.
  auto ready = [&] {
    for (const auto& consumer : rt.consumers())
      if (consumer->metrics().group.probed_ns == 0 || consumer->metrics().processed < 10)
        return false;
    return true;
  };
  for (int i = 0; i < 600 && !ready(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  if (!ready())
    throw std::runtime_error("the consumers did not all start within 60 s");
  std::vector<double> metrics_ms, readyz_ms;
  size_t bytes = 0;
  for (uint64_t r = 0; r < cfg.rounds * 10; ++r) {
    auto [ms, size] = timed_get(rt.http_port(), "/metrics");
    metrics_ms.push_back(ms);
    bytes = size;
    readyz_ms.push_back(timed_get(rt.http_port(), "/readyz").first);
  }
  auto [history_ms, history_bytes] = timed_get(rt.http_port(), "/api/history");
  std::sort(metrics_ms.begin(), metrics_ms.end());
  std::sort(readyz_ms.begin(), readyz_ms.end());
  rt.stop();
  rt.run();
  for (uint64_t i = 0; i < streams; ++i)
    c.command({"DEL", "bench:scrape:" + std::to_string(i)});
  std::printf("bench scrape: %llu streams, %zu scrapes\n", static_cast<unsigned long long>(streams),
              metrics_ms.size());
  std::printf("  /metrics %zu bytes, p50 %.1f ms, p99 %.1f ms, max %.1f ms; /readyz p50 %.2f ms\n",
              bytes, cli::percentile(metrics_ms, 50), cli::percentile(metrics_ms, 99),
              metrics_ms.back(), cli::percentile(readyz_ms, 50));
  nlohmann::ordered_json line{{"bench", "scrape"},
                              {"impl", "rill"},
                              {"streams", streams},
                              {"scrapes", metrics_ms.size()},
                              {"metrics_bytes", bytes},
                              {"metrics_ms_p50", cli::rounded(cli::percentile(metrics_ms, 50), 2)},
                              {"metrics_ms_p99", cli::rounded(cli::percentile(metrics_ms, 99), 2)},
                              {"metrics_ms_max", cli::rounded(metrics_ms.back(), 2)},
                              {"readyz_ms_p50", cli::rounded(cli::percentile(readyz_ms, 50), 2)},
                              {"history_bytes", history_bytes},
                              {"history_ms", cli::rounded(history_ms, 2)}};
  print(line);
  return 0;
}

} // namespace rill::bench
