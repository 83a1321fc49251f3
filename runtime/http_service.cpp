#include <rill/runtime/http_service.hpp>

#include <rill/actors/clock.hpp>
#include <rill/actors/messages.hpp>
#include <rill/runtime/config.hpp>
#include <rill/runtime/dashboard_assets.hpp>
#include <rill/runtime/http_credentials.hpp>
#include <rill/runtime/readiness.hpp>
#include <rill/runtime/runtime.hpp>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include <chrono>

namespace rill {

namespace {

/// /livez fails when the scheduler has not run the watchdog for this long.
constexpr int64_t live_limit_ns = 5'000'000'000;
constexpr std::chrono::milliseconds sample_period{1000};

caf::behavior watchdog(caf::event_based_actor*, std::shared_ptr<std::atomic<int64_t>> last_pong) {
  return {
    [last_pong](tick_atom) { last_pong->store(steady_now_ns(), std::memory_order_relaxed); },
  };
}

http_response json(unsigned status, std::string body) {
  return http_response{status, "application/json", std::move(body), {}};
}

} // namespace

http_service::http_service(runtime& rt) :
  rt_(rt), exporter_(rt), last_pong_(std::make_shared<std::atomic<int64_t>>(steady_now_ns())) {
  watchdog_ = rt.system().spawn(watchdog, last_pong_);
}

http_service::~http_service() {
  if (gateway_)
    gateway_->stop(); // its clients' sockets live on the server's thread
  server_.reset();    // no handler runs after this
  caf::anon_send_exit(watchdog_, caf::exit_reason::user_shutdown);
}

std::unique_ptr<http_service> http_service::start(runtime& rt, std::string& error) {
  std::string host;
  uint16_t port = 0;
  if (auto err = parse_listen(rt.cfg().http.listen, host, port)) {
    error = "http.listen: expected HOST:PORT or PORT, got '" + rt.cfg().http.listen + "'";
    return nullptr;
  }
  std::unique_ptr<http_service> svc{new http_service{rt}};
  http_server::limits lim;
  lim.max_connections = rt.cfg().http.max_connections;
  if (rt.cfg().gateway.enabled) {
    svc->gateway_ = std::make_unique<gateway>(rt);
    lim.max_connections += rt.cfg().gateway.max_clients; // 503 past the gateway's own bound
  }
  auto* raw = svc.get();
  svc->server_ = http_server::start(
    host, port, [raw](const http_request& req) { return raw->handle(req); }, lim, error);
  if (!svc->server_)
    return nullptr;
  if (svc->gateway_)
    svc->gateway_->attach(*svc->server_);
  svc->server_->every(sample_period, [raw] {
    caf::anon_send(raw->watchdog_, tick_atom::value);
    raw->history_.sample(raw->rt_, unix_now_ms());
    if (raw->gateway_)
      raw->gateway_->tick(steady_now_ns());
  });
  return svc;
}

bool http_service::authorized(const http_request& req) const {
  const auto& token = rt_.cfg().http.token;
  if (token.empty())
    return true;
  return carries_token(req, token, "token");
}

http_response http_service::handle(const http_request& req) {
  if (gateway_)
    if (auto answer = gateway_->handle(req))
      return std::move(*answer);
  if (req.method != "GET")
    return http_response{405, "text/plain", "only GET\n", {{"Allow", "GET"}}};
  if (req.path == "/livez") {
    std::vector<health_check> checks{
      liveness(last_pong_->load(std::memory_order_relaxed), steady_now_ns(), live_limit_ns)};
    return json(all_ok(checks) ? 200 : 503, health_body(checks));
  }
  if (req.path == "/readyz") {
    auto checks = readiness(rt_, steady_now_ns());
    if (gateway_)
      checks.push_back(gateway_->readiness());
    return json(all_ok(checks) ? 200 : 503, health_body(checks));
  }
  // The page and its script hold no figures: served to anyone, so a browser
  // can load them; the data they fetch needs the token.
  if (req.path == "/" || req.path == "/index.html")
    return http_response{200, "text/html; charset=utf-8", std::string{dashboard_html()}, {}};
  if (req.path == "/chart.min.js")
    return http_response{
      200, "application/javascript", std::string{chart_js()}, {{"Cache-Control", "max-age=3600"}}};
  if (req.path != "/metrics" && req.path != "/api/history")
    return http_response{404, "text/plain", "not found\n", {}};
  if (!authorized(req))
    return http_response{401,
                         "text/plain",
                         "bearer token required\n",
                         {{"WWW-Authenticate", "Bearer realm=\"rill\""}}};
  if (req.path == "/metrics")
    return http_response{200,
                         "text/plain; version=0.0.4; charset=utf-8",
                         exporter_.text(gateway_ ? gateway_->metric_families()
                                                 : std::vector<prometheus::MetricFamily>{}),
                         {}};
  return json(200, history_.json(sample_period.count()));
}

} // namespace rill
