// `rill bench tls`: what TLS to Redis costs. One private redis-server with a
// plaintext and a TLS port (a test CA made with the `openssl` tool in its
// directory); per max-in-flight K (64 and 512, or --max-in-flight), rounds
// alternate rill over plaintext, rill over TLS and the raw hiredis loop over
// plaintext (the yardstick), each draining --count entries.

#include "bench.hpp"
#include "commands.hpp"
#include <rill/actors/error.hpp>

#include <cstdio>
#include <cstdlib>

namespace rill::bench {

namespace {

/// A CA and a server certificate for 127.0.0.1 in `dir` (ca.pem, server.pem,
/// server.key), made by the openssl command-line tool.
void make_certificates(const std::string& dir) {
  auto run = [](const std::string& cmd) {
    if (std::system((cmd + " >/dev/null 2>&1").c_str()) != 0)
      throw std::runtime_error("openssl failed (is the openssl tool installed?): " + cmd);
  };
  run("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=rill-bench-ca -keyout " + dir
      + "/ca.key -out " + dir + "/ca.pem");
  run("openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout " + dir + "/server.key -out "
      + dir + "/server.csr");
  run("sh -c 'echo subjectAltName=IP:127.0.0.1 > " + dir + "/san.ext'");
  run("openssl x509 -req -in " + dir + "/server.csr -CA " + dir + "/ca.pem -CAkey " + dir
      + "/ca.key -CAcreateserial -days 1 -extfile " + dir + "/san.ext -out " + dir + "/server.pem");
}

} // namespace

int tls_case(cli_config& cfg) {
  if (!cfg.redis_address.empty())
    return cli::config_error("bench tls", "starts its own server: no --redis");
  const uint64_t n = cfg.count > 0 ? cfg.count : 200'000;
  // The certificates live in a directory made before the server: its own
  // directory is known only once it runs, and it needs them at start.
  char tmpl[] = "/tmp/rill-bench-tls-XXXXXX";
  if (!mkdtemp(tmpl))
    return cli::config_error("bench tls", "cannot make a temporary directory");
  std::string certs = tmpl;
  make_certificates(certs);
  auto tls_port = free_loopback_port();
  local_redis::options o;
  o.extra_args = {"--tls-port",         std::to_string(tls_port),
                  "--tls-cert-file",    certs + "/server.pem",
                  "--tls-key-file",     certs + "/server.key",
                  "--tls-ca-cert-file", certs + "/ca.pem",
                  "--tls-auth-clients", "no"};
  auto server = local_redis::start(o);
  if (!server)
    return cli::config_error("bench tls", describe(server.error()));
  auto c = connect_or_throw("127.0.0.1", server->port());
  std::vector<uint32_t> ks;
  if (cfg.consumer.max_in_flight != consumer_options{}.max_in_flight)
    ks = {cfg.consumer.max_in_flight};
  else
    ks = {64, 512};
  std::printf("bench tls: %s entries, payload %llu bytes, %llu rounds per K; rill over plaintext "
              "and over TLS (TLS 1.3, verified), raw hiredis loop over plaintext\n",
              cli::grouped(n).c_str(), static_cast<unsigned long long>(cfg.payload_bytes),
              static_cast<unsigned long long>(cfg.rounds));
  for (auto k : ks) {
    std::vector<double> plain_rates, tls_rates, raw_rates, ratios, plain_cpu, tls_cpu;
    for (uint64_t r = 0; r < cfg.rounds; ++r) {
      for (int pass = 0; pass < 2; ++pass) {
        bool tls = (pass == 1) != (r % 2 == 1); // alternate which goes first
        cfg.redis.host = "127.0.0.1";
        cfg.redis.port = tls ? tls_port : server->port();
        cfg.redis.tls = tls;
        cfg.redis.tls_ca_file = tls ? certs + "/ca.pem" : std::string{};
        prefill(c, "bench:rill", "g", n, cfg.payload_bytes);
        auto before = usage::now();
        auto round = rill_consume_round(cfg, n, k);
        auto cpu = (usage::now() - before).cpu_s() * 1e6 / n;
        c.command({"DEL", "bench:rill"});
        (tls ? tls_rates : plain_rates).push_back(round.rate);
        (tls ? tls_cpu : plain_cpu).push_back(cpu);
      }
      prefill(c, "bench:raw", "g", n, cfg.payload_bytes);
      raw_rates.push_back(raw_consume(c, "bench:raw", "g", n, k));
      c.command({"DEL", "bench:raw"});
      ratios.push_back(tls_rates.back() / plain_rates.back());
      std::printf("  K=%-4u round %llu: plaintext %.0f msgs/s (%.2f us CPU/entry), TLS %.0f msgs/s "
                  "(%.2f us): %.2fx; raw loop %.0f msgs/s\n",
                  k, static_cast<unsigned long long>(r + 1), plain_rates.back(), plain_cpu.back(),
                  tls_rates.back(), tls_cpu.back(), ratios.back(), raw_rates.back());
      std::fflush(stdout);
    }
    auto ratio = summarize(ratios);
    auto pc = summarize(plain_cpu);
    auto tc = summarize(tls_cpu);
    std::printf("  K=%u: TLS / plaintext %.2fx median (%.2f-%.2f); CPU per entry %.2f vs %.2f us "
                "(medians); rill TLS / raw plaintext %.2fx\n",
                k, ratio.median, ratio.min, ratio.max, tc.median, pc.median,
                summarize(tls_rates).median / summarize(raw_rates).median);
    nlohmann::ordered_json line{{"bench", "tls"},
                                {"max_in_flight", k},
                                {"plain_msgs_per_s", cli::whole(summarize(plain_rates).median)},
                                {"tls_msgs_per_s", cli::whole(summarize(tls_rates).median)},
                                {"raw_msgs_per_s", cli::whole(summarize(raw_rates).median)},
                                {"tls_ratio_median", ratio.median},
                                {"tls_ratio_min", ratio.min},
                                {"tls_ratio_max", ratio.max},
                                {"plain_cpu_us_per_entry", pc.median},
                                {"tls_cpu_us_per_entry", tc.median}};
    print(line);
  }
  std::system(("rm -rf " + certs).c_str());
  return 0;
}

} // namespace rill::bench
