#include <rill/runtime/readiness.hpp>

#include <rill/runtime/json_text.hpp>
#include <rill/runtime/runtime.hpp>

#include <algorithm>

namespace rill {

namespace {

std::string seconds_text(int64_t ns) {
  auto tenths = ns / 100'000'000;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " s";
}

} // namespace

std::vector<health_check> readiness(const runtime& rt, int64_t now_ns) {
  std::vector<health_check> out;
  health_check redis{"redis", true, {}};
  if (!rt.shared_connection_metrics().up.load())
    redis = {"redis", false, "shared connection down"};
  for (const auto& c : rt.consumers()) {
    const auto& m = c->metrics();
    const auto& o = c->options();
    auto pair = o.stream + "/" + o.group;
    if (redis.ok && !m.finished && !m.connection.up.load())
      redis = {"redis", false, "reader connection of " + pair + " down"};
    if (m.refused) {
      out.push_back({"consumer " + pair, false, "refused to run: " + m.last_error()});
      continue;
    }
    if (m.finished)
      continue; // reached its limit, or stopping
    if (!m.attached)
      out.push_back({"group " + pair, false, "reader not attached to its group"});
    else
      out.push_back({"group " + pair, true, {}});
    auto lag = m.group.lag.load();
    auto since = std::max(m.last_ack_ns.load(), m.started_ns.load());
    auto stall = rt.cfg().http.ready_stall.count();
    if (lag > 0 && since > 0 && now_ns - since > stall)
      out.push_back({"progress " + pair, false,
                     "no entry completed for " + seconds_text(now_ns - since) + " while lag is "
                       + std::to_string(lag)});
  }
  out.insert(out.begin(), redis);
  return out;
}

health_check liveness(int64_t last_pong_ns, int64_t now_ns, int64_t limit_ns) {
  if (now_ns - last_pong_ns <= limit_ns)
    return {"scheduler", true, {}};
  return {"scheduler", false,
          "no answer to the watchdog for " + seconds_text(now_ns - last_pong_ns)};
}

bool all_ok(const std::vector<health_check>& checks) {
  return std::all_of(checks.begin(), checks.end(), [](const health_check& c) { return c.ok; });
}

std::string health_body(const std::vector<health_check>& checks) {
  nlohmann::ordered_json body;
  body["ok"] = all_ok(checks);
  auto list = nlohmann::ordered_json::array();
  for (const auto& c : checks) {
    nlohmann::ordered_json item;
    put_bytes(item, "name", c.name);
    item["ok"] = c.ok;
    if (!c.ok)
      put_bytes(item, "detail", c.detail);
    list.push_back(std::move(item));
  }
  body["checks"] = std::move(list);
  return json_line(body) + "\n";
}

} // namespace rill
