#include <rill/runtime/gateway.hpp>

#include <rill/actors/clock.hpp>
#include <rill/runtime/http_credentials.hpp>
#include <rill/runtime/readiness.hpp>
#include <rill/runtime/runtime.hpp>

#include <prometheus/client_metric.h>

#include <spdlog/spdlog.h>

#include <fnmatch.h>

#include <algorithm>
#include <future>

namespace rill {

namespace {

const std::string path_prefix = "/streams/";
const std::string path_suffix = "/events";
const std::string token_cookie = "rill_token";

/// "ms" or "ms-seq", digits only: what Last-Event-ID and last_id may hold.
bool valid_entry_id(const std::string& id) {
  auto dash = id.find('-');
  auto digits = [](const std::string& s) {
    return !s.empty() && s.size() <= 20 && s.find_first_not_of("0123456789") == std::string::npos;
  };
  if (dash == std::string::npos)
    return digits(id);
  return digits(id.substr(0, dash)) && digits(id.substr(dash + 1));
}

} // namespace

gateway::gateway(runtime& rt) : rt_(rt), cfg_(rt.cfg().gateway) {}

void gateway::attach(http_server& server) {
  server_ = &server;
  poster_->attach(&server);
  attached_.store(true, std::memory_order_release);
}

void gateway::stop() {
  if (server_ == nullptr)
    return;
  // The clients' sockets belong to the server's thread: close them there.
  auto done = std::make_shared<std::promise<void>>();
  auto finished = done->get_future();
  server_->post([this, done] {
    hubs_.clear();
    counters_.streams = 0;
    done->set_value();
  });
  if (finished.wait_for(std::chrono::seconds{5}) != std::future_status::ready)
    spdlog::warn("gateway: the HTTP thread did not close the clients within 5 s");
  poster_->attach(nullptr);
  server_ = nullptr;
}

http_response gateway::refuse(unsigned status, std::string why,
                              std::vector<std::pair<std::string, std::string>> headers) const {
  return http_response{status, "text/plain", std::move(why) + "\n", std::move(headers)};
}

std::optional<http_response> gateway::handle(const http_request& req) {
  if (req.path.compare(0, path_prefix.size(), path_prefix) != 0)
    return std::nullopt;
  std::vector<std::pair<std::string, std::string>> cors;
  if (!req.origin.empty() && !cfg_.cors_origins.empty()) {
    auto allowed = std::any_of(cfg_.cors_origins.begin(), cfg_.cors_origins.end(),
                               [&](const std::string& o) { return o == "*" || o == req.origin; });
    if (allowed)
      cors = {{"Access-Control-Allow-Origin", req.origin},
              {"Access-Control-Allow-Credentials", "true"},
              {"Vary", "Origin"}};
  }
  if (req.method == "OPTIONS") { // a preflight (fetch with a bearer header)
    auto headers = cors;
    headers.emplace_back("Access-Control-Allow-Methods", "GET");
    headers.emplace_back("Access-Control-Allow-Headers", "Authorization, Last-Event-ID");
    return http_response{204, "text/plain", {}, std::move(headers)};
  }
  if (req.method != "GET")
    return refuse(405, "only GET", {{"Allow", "GET"}});
  if (!attached_.load(std::memory_order_acquire))
    return refuse(503, "starting", {{"Retry-After", "1"}});
  auto end
    = req.path.size() >= path_prefix.size() + path_suffix.size()
          && req.path.compare(req.path.size() - path_suffix.size(), path_suffix.size(), path_suffix)
               == 0
        ? req.path.size() - path_suffix.size()
        : std::string::npos;
  if (end == std::string::npos || end == path_prefix.size())
    return refuse(404, "not found: GET /streams/{key}/events", cors);
  auto key = percent_decoded(
    std::string_view{req.path}.substr(path_prefix.size(), end - path_prefix.size()));
  if (!key)
    return refuse(400, "bad percent-encoding in the stream key", cors);
  const auto& token = rt_.cfg().http.token;
  if (!token.empty() && !carries_token(req, token, "access_token", token_cookie)) {
    ++rejected_auth_;
    auto headers = cors;
    headers.emplace_back("WWW-Authenticate", "Bearer realm=\"rill\"");
    return refuse(401, "token required", std::move(headers));
  }
  bool matches = cfg_.streams == "*"
                 || (key->find('\0') == std::string::npos
                     && fnmatch(cfg_.streams.c_str(), key->c_str(), 0) == 0);
  if (!matches) {
    ++rejected_key_;
    return refuse(403, "stream not served here (gateway.streams)", cors);
  }
  auto from = !req.last_event_id.empty() ? req.last_event_id : query_value(req.query, "last_id");
  if (!from.empty() && !valid_entry_id(from))
    return refuse(400, "Last-Event-ID / last_id: expected an entry ID like 1700000000000-0", cors);
  if (counters_.clients >= cfg_.max_clients) {
    ++rejected_full_;
    auto headers = cors;
    headers.emplace_back("Retry-After", "5");
    return refuse(503, "too many clients (gateway.max-clients)", std::move(headers));
  }
  auto hub = hub_for(*key);
  if (!hub) {
    ++rejected_full_;
    auto headers = cors;
    headers.emplace_back("Retry-After", "5");
    return refuse(503, "too many streams followed (gateway.max-streams)", std::move(headers));
  }
  http_response out;
  out.content_type = "text/event-stream; charset=utf-8";
  out.headers = std::move(cors);
  out.headers.emplace_back("X-Accel-Buffering", "no"); // nginx: do not buffer the stream
  auto retry_ms = std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.retry).count();
  out.body = "retry: " + std::to_string(retry_ms) + "\n\n";
  out.max_queued_bytes = cfg_.client_buffer;
  out.stream = [hub, from](std::shared_ptr<http_stream> s) {
    hub->attach(std::move(s), from);
  };
  return out;
}

std::shared_ptr<gateway_hub> gateway::hub_for(const std::string& stream) {
  if (auto at = hubs_.find(stream); at != hubs_.end())
    return at->second;
  if (hubs_.size() >= cfg_.max_streams) {
    // Full: a stream that lingers without clients makes room.
    auto idle = std::find_if(hubs_.begin(), hubs_.end(),
                             [](const auto& kv) { return kv.second->clients() == 0; });
    if (idle == hubs_.end())
      return nullptr;
    hubs_.erase(idle);
  }
  auto& sys = rt_.system();
  auto tailer = rt_.spawn_stream_tailer(stream, {}, "-tail");
  auto hub = std::make_shared<gateway_hub>(gateway_hub::context{sys, cfg_, poster_, counters_},
                                           stream, std::move(tailer));
  hub->start();
  hubs_.emplace(stream, hub);
  counters_.streams = hubs_.size();
  return hub;
}

void gateway::tick(int64_t now_ns) {
  auto beat_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(cfg_.heartbeat).count();
  if (now_ns - last_beat_ns_ >= beat_ns) {
    last_beat_ns_ = now_ns;
    static const auto beat = std::make_shared<const std::string>(":\n\n");
    for (auto& [name, hub] : hubs_)
      hub->heartbeat(beat);
  }
  auto linger_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(cfg_.linger).count();
  for (auto at = hubs_.begin(); at != hubs_.end();) {
    auto idle = at->second->idle_since_ns();
    if (idle != 0 && now_ns - idle >= linger_ns)
      at = hubs_.erase(at); // its tailer and connection go with it
    else
      ++at;
  }
  counters_.streams = hubs_.size();
}

std::vector<prometheus::MetricFamily> gateway::metric_families() const {
  using prometheus::ClientMetric;
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  auto family = [&out](const char* name, const char* help, MetricType type,
                       std::vector<std::pair<std::vector<ClientMetric::Label>, double>> values) {
    prometheus::MetricFamily f{name, help, type, {}};
    for (auto& [labels, v] : values) {
      ClientMetric m;
      m.label = std::move(labels);
      if (type == MetricType::Counter)
        m.counter.value = v;
      else
        m.gauge.value = v;
      f.metric.push_back(std::move(m));
    }
    out.push_back(std::move(f));
  };
  family("rill_gateway_clients", "Event-stream clients connected", MetricType::Gauge,
         {{{}, double(counters_.clients)}});
  family("rill_gateway_streams", "Streams followed (one tailer connection each)", MetricType::Gauge,
         {{{}, double(counters_.streams)}});
  family("rill_gateway_events_sent_total", "Events queued to clients", MetricType::Counter,
         {{{}, double(counters_.events_sent)}});
  family("rill_gateway_clients_dropped_total", "Clients closed past gateway.client-buffer",
         MetricType::Counter, {{{}, double(counters_.dropped)}});
  family("rill_gateway_gaps_total", "Gap events sent (a resume ID older than the stream holds)",
         MetricType::Counter, {{{}, double(counters_.gaps)}});
  family("rill_gateway_resumes_total", "Clients that resumed from an ID, by where from",
         MetricType::Counter,
         {{{{"from", "memory"}}, double(counters_.resumed_from_memory)},
          {{{"from", "redis"}}, double(counters_.resumed_from_redis)}});
  family("rill_gateway_rejected_total", "Requests refused, by reason", MetricType::Counter,
         {{{{"reason", "auth"}}, double(rejected_auth_)},
          {{{"reason", "full"}}, double(rejected_full_)},
          {{{"reason", "stream"}}, double(rejected_key_)}});
  return out;
}

health_check gateway::readiness() const {
  return health_check{"gateway", true,
                      std::to_string(counters_.clients.load()) + " clients on "
                        + std::to_string(counters_.streams.load()) + " streams, "
                        + std::to_string(counters_.dropped.load()) + " dropped"};
}

} // namespace rill
