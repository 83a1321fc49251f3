#include "runtime/options.hpp"

#include "runtime/error.hpp"

#include <unistd.h>

namespace rill {

std::string default_consumer_name() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
    std::snprintf(host, sizeof(host), "%s", "host");
  return std::string{host} + "-" + std::to_string(getpid());
}

namespace {

caf::error bad(const std::string& what) {
  return make_error(sec::invalid_config, what);
}

bool positive(caf::timespan x) {
  return x.count() > 0;
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
  if (x.redeliver_base.count() <= 0 || x.redeliver_cap < x.redeliver_base)
    return bad("consumer.redeliver-base: must be > 0 and <= consumer.redeliver-cap");
  if (x.claim_min_idle.count() < 0 || x.claim_interval.count() <= 0
      || x.consumer_idle_timeout.count() < 0 || x.callback_timeout.count() < 0)
    return bad("consumer.claim-min-idle, claim-interval, consumer-idle-timeout, "
               "callback-timeout: must be >= 0 (claim-interval > 0)");
  if (x.start_id.empty())
    return bad("consumer.start-id: must be an ID, 0 or $");
  return caf::none;
}

caf::error validate(const producer_options& x) {
  if (x.max_in_flight == 0)
    return bad("producer.max-in-flight: must be >= 1");
  return caf::none;
}

} // namespace rill
