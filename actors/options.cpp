#include <rill/actors/options.hpp>

#include <rill/actors/error.hpp>

#include <unistd.h>

namespace rill {

std::string default_consumer_name() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
    std::snprintf(host, sizeof(host), "%s", "host");
  return std::string{host} + "-" + std::to_string(getpid());
}

std::string endpoint_text(const std::string& host, uint16_t port) {
  auto p = std::to_string(port);
  return host.find(':') != std::string::npos ? "[" + host + "]:" + p : host + ":" + p;
}

namespace {

caf::error bad(const std::string& what) {
  return make_error(sec::invalid_config, what);
}

bool positive(caf::timespan x) {
  return x.count() > 0;
}

/// "0", "$" or a stream ID: "<ms>" or "<ms>-<seq>", digits only.
bool valid_start_id(const std::string& id) {
  if (id == "$" || id == "0")
    return true;
  auto dash = id.find('-');
  auto digits = [](const std::string& x) {
    return !x.empty() && x.size() <= 20 && x.find_first_not_of("0123456789") == std::string::npos;
  };
  if (dash == std::string::npos)
    return digits(id);
  return digits(id.substr(0, dash)) && digits(id.substr(dash + 1));
}

/// Off (0) or at least `least`: a tiny period turns a timer into a busy loop
/// (claim-min-idle=1us renewed leases every 333 ns: 34% CPU idle).
bool off_or_at_least(caf::timespan x, caf::timespan least) {
  return x.count() == 0 || x >= least;
}

} // namespace

caf::error validate(const redis_options& x) {
  if (x.host.empty())
    return bad("redis.host: must not be empty");
  if (x.port == 0)
    return bad("redis.port: must be 1..65535");
  if (x.db < 0)
    return bad("redis.db: must be >= 0");
  if (!x.user.empty() && x.password.empty())
    return bad("redis.user: needs redis.password as well");
  if (!positive(x.connect_timeout) || !positive(x.request_timeout))
    return bad("redis.connect-timeout and redis.request-timeout: must be > 0");
  if (!positive(x.reconnect_min) || x.reconnect_max < x.reconnect_min)
    return bad("redis.reconnect-min: must be > 0 and <= redis.reconnect-max");
  if (x.cluster_refresh < 100ms)
    return bad("redis.cluster-refresh: at least 100ms");
  if (x.cluster && x.db != 0)
    return bad("redis.db: Redis Cluster has only database 0");
  if (x.sentinels.empty() != x.sentinel_master.empty())
    return bad(x.sentinels.empty() ? "redis.sentinel-master: needs redis.sentinels"
                                   : "redis.sentinels: needs redis.sentinel-master (its name)");
  if (!x.sentinels.empty() && (x.cluster || !x.seeds.empty()))
    return bad("redis.sentinels: Sentinel and Redis Cluster do not mix (redis.cluster, seeds)");
  if (x.sentinel_refresh < 100ms)
    return bad("redis.sentinel-refresh: at least 100ms");
  return caf::none;
}

caf::error validate(const consumer_options& x) {
  if (x.stream.empty())
    return bad("consumer.stream (--stream): required");
  if (x.group.empty())
    return bad("consumer.group (--group): required");
  if (x.max_in_flight == 0 || x.max_in_flight > 100000)
    return bad("consumer.max-in-flight (--max-in-flight): must be 1..100000");
  if (x.block < 1ms)
    return bad("consumer.block: must be >= 1ms");
  if (x.ack_batch == 0)
    return bad("consumer.ack-batch: must be >= 1");
  if (x.ack_delay.count() < 0 || x.stop_timeout.count() < 0)
    return bad("consumer.ack-delay and consumer.stop-timeout: must be >= 0");
  if (x.ack_linger.count() < 0 || x.ack_linger > std::chrono::seconds{1})
    return bad("consumer.ack-linger: must be between 0 and 1s");
  if (x.max_deliveries == 0)
    return bad("consumer.max-deliveries: must be >= 1");
  if (!x.order_by.empty() && x.order_key)
    return bad("consumer.order-by and order_key: set one of them");
  if (x.max_key_hold.count() < 0)
    return bad("consumer.max-key-hold: must be >= 0 (0: off)");
  if (x.max_parked > 10000000)
    return bad("consumer.max-parked: must be 0..10000000");
  if (x.max_waiting > 100000)
    return bad("consumer.max-waiting: must be 0..100000 (0: as many as workers)");
  if (x.redeliver_base.count() <= 0 || x.redeliver_cap < x.redeliver_base)
    return bad("consumer.redeliver-base: must be > 0 and <= consumer.redeliver-cap");
  if (x.claim_min_idle.count() < 0 || x.claim_interval.count() <= 0
      || x.consumer_idle_timeout.count() < 0 || x.callback_timeout.count() < 0
      || x.orphan_check.count() < 0)
    return bad("consumer.claim-min-idle, claim-interval, consumer-idle-timeout, "
               "callback-timeout, orphan-check: must be >= 0 (claim-interval > 0)");
  if (!off_or_at_least(x.claim_min_idle, 100ms))
    return bad("consumer.claim-min-idle: 0 (off) or at least 100ms");
  if (x.claim_interval < 10ms)
    return bad("consumer.claim-interval: at least 10ms");
  if (!off_or_at_least(x.name_lease, 1s))
    return bad("consumer.name-lease: 0 (not checked) or at least 1s");
  if (!off_or_at_least(x.orphan_check, 100ms))
    return bad("consumer.orphan-check: 0 (after reconnects only) or at least 100ms");
  if (!off_or_at_least(x.consumer_idle_timeout, 100ms))
    return bad("consumer.consumer-idle-timeout: 0 (never) or at least 100ms");
  if (!off_or_at_least(x.callback_timeout, 1ms))
    return bad("consumer.callback-timeout: 0 (no limit) or at least 1ms");
  if (x.retry_min.count() <= 0 || x.retry_max < x.retry_min)
    return bad("consumer.retry-min: must be > 0 and <= retry-max");
  if (!valid_start_id(x.start_id))
    return bad("consumer.start-id: must be 0, $ or a stream ID like 1700000000000-0, got '"
               + x.start_id + "'");
  auto dead = x.dead_letter_stream.empty() ? x.stream + ":dead" : x.dead_letter_stream;
  if (dead == x.stream)
    return bad("consumer.dead-letter-stream: must not be the stream itself (each dead letter "
               "would be read and dead-lettered again)");
  return caf::none;
}

caf::error validate(const producer_options& x) {
  if (x.max_in_flight == 0)
    return bad("producer.max-in-flight: must be >= 1");
  if (x.max_bytes < 1024)
    return bad("producer.max-bytes: must be >= 1024");
  return caf::none;
}

} // namespace rill
