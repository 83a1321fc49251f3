#include <rill/runtime/redis_topology.hpp>

#include <rill/runtime/runtime.hpp>

#include <rill/actors/cluster_connection.hpp>
#include <rill/actors/error.hpp>
#include <rill/actors/redis/key_slot.hpp>
#include <rill/actors/redis_connection.hpp>
#include <rill/actors/sentinel_watcher.hpp>

#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <spdlog/spdlog.h>

#include <stdexcept>

namespace rill {

namespace {

/// `INFO cluster` on the plain connection: true when the server runs in
/// cluster mode. Unreachable: false (one server, as before). A TLS failure
/// or TLS files that do not load: fatal, retrying the same way cannot fix it.
bool says_cluster(caf::actor_system& sys, const connection_actor& conn, const redis_options& o) {
  caf::scoped_actor self{sys};
  bool cluster = false;
  caf::error failed;
  self->request(conn, o.connect_timeout + o.request_timeout, make_command({"INFO", "cluster"}))
    .receive(
      [&](redis_reply& reply) {
        cluster = reply.str.find("cluster_enabled:1") != std::string::npos;
      },
      [&](caf::error& err) { failed = std::move(err); });
  if (auto code = code_of(failed); code == sec::tls_failed || code == sec::invalid_config) {
    // The actor system waits for its actors when the runtime unwinds.
    caf::anon_send_exit(conn, caf::exit_reason::user_shutdown);
    throw startup_error(context_text(failed));
  }
  if (failed)
    spdlog::debug("redis {}: cannot ask whether it is a cluster ({}); treating it as one "
                  "server (redis.cluster=true forces cluster mode)",
                  endpoint_text(o.host, o.port), describe(failed));
  return cluster;
}

} // namespace

std::string default_dead_letter_stream(const std::string& stream, bool cluster) {
  return cluster ? same_slot_key("", stream, ":dead") : stream + ":dead";
}

redis_topology::redis_topology(caf::actor_system& sys, redis_options& redis,
                               const std::string& cluster_setting) :
  sys_(sys),
  shared_metrics_(std::make_shared<connection_metrics>()) {
  if (!redis.sentinels.empty()) {
    opts_ = redis;
    watch_sentinels();
    shared_ = spawn_redis_connection(sys, opts_, {}, shared_metrics_, master_);
    return;
  }
  // With TLS the first connection is made here even when the mode is known:
  // a certificate that does not verify stops the start with one line.
  if (!redis.cluster && redis.seeds.empty() && (cluster_setting == "auto" || redis.tls)) {
    // The question goes over what becomes the shared connection of a single
    // server: no extra connection in the common case.
    auto plain = spawn_redis_connection(sys, redis, {}, shared_metrics_);
    auto cluster = says_cluster(sys, plain, redis);
    if (!cluster || cluster_setting == "false") {
      opts_ = redis;
      shared_ = std::move(plain);
      return;
    }
    caf::anon_send_exit(plain, caf::exit_reason::user_shutdown);
    shared_metrics_ = std::make_shared<connection_metrics>(); // the old one's exit clears it
    redis.cluster = true;
  } else if (!redis.seeds.empty() && cluster_setting != "false") {
    redis.cluster = true;
  }
  opts_ = redis;
  if (!opts_.cluster) {
    shared_ = spawn_redis_connection(sys, opts_, {}, shared_metrics_);
    return;
  }
  if (auto err = validate(opts_))
    throw std::invalid_argument(context_text(err));
  spdlog::info("redis: cluster mode (seeds: {}{})", endpoint_text(opts_.host, opts_.port),
               opts_.seeds.empty() ? "" : " and " + std::to_string(opts_.seeds.size()) + " more");
  map_ = std::make_shared<cluster_map>();
  shared_ = spawn_cluster_connection(sys, opts_, map_, {}, {}, {}, shared_metrics_);
}

connection_actor redis_topology::spawn_own(const std::string& stream,
                                           const std::string& name_suffix, caf::actor listener,
                                           std::shared_ptr<connection_metrics> metrics) const {
  auto opts = opts_;
  if (!opts.client_name.empty())
    opts.client_name += name_suffix;
  if (!opts.cluster)
    return spawn_redis_connection(sys_, opts, std::move(listener), std::move(metrics), master_);
  return spawn_cluster_connection(sys_, opts, map_, caf::actor_cast<caf::actor>(shared_), stream,
                                  std::move(listener), std::move(metrics));
}

std::string redis_topology::dead_letter_stream(const std::string& stream,
                                               const std::string& configured) const {
  auto dead = configured.empty() ? default_dead_letter_stream(stream, cluster()) : configured;
  if (cluster() && key_slot(dead) != key_slot(stream))
    throw std::invalid_argument(
      "consumer.dead-letter-stream: '" + dead + "' is in hash slot "
      + std::to_string(key_slot(dead)) + ", the stream '" + stream + "' in "
      + std::to_string(key_slot(stream))
      + "; in Redis Cluster both must share a slot (give the dead-letter key the stream's hash "
        "tag, e.g. '"
      + same_slot_key("", stream, ":dead") + "')");
  return dead;
}

std::shared_ptr<const effect_rules>
redis_topology::effect_rules_for(const std::string& stream,
                                 std::vector<std::string> command_keys) const {
  auto rules = std::make_shared<effect_rules>();
  if (cluster()) {
    rules->slot = key_slot(stream);
    for (const auto& glob : command_keys) {
      // The slot of every key a pattern matches is known only if the part
      // that is hashed (the tag, or the whole key) has no wildcard.
      auto hashed = hashed_part(glob);
      bool fixed = hashed.find_first_of("*?[\\") == std::string_view::npos
                   && (has_hash_tag(glob) || glob.find_first_of("*?[\\") == std::string::npos);
      if (!fixed || key_slot(glob) != *rules->slot)
        throw std::invalid_argument(
          "consumer.effect-keys: '" + glob + "' can name keys outside hash slot "
          + std::to_string(*rules->slot) + " of the stream '" + stream + "'"
          + "; in Redis Cluster an entry's effects must share its stream's slot (use the stream's "
            "hash tag, e.g. '"
          + same_slot_key("", stream, ":*") + "')");
    }
  }
  rules->command_keys = std::move(command_keys);
  return rules;
}

void redis_topology::watch_sentinels() {
  master_ = std::make_shared<master_address>();
  watcher_ = spawn_sentinel_watcher(sys_, opts_, master_);
  caf::scoped_actor self{sys_};
  // Each sentinel may take a connect and a reply before the next is asked.
  auto wait = (opts_.connect_timeout + opts_.request_timeout) * opts_.sentinels.size();
  caf::error failed;
  self->request(watcher_, wait, resolve_atom::value)
    .receive([](std::string&, uint16_t) {}, [&](caf::error& err) { failed = std::move(err); });
  auto code = code_of(failed);
  if (code == sec::invalid_config || code == sec::tls_failed || code == sec::auth_failed) {
    caf::anon_send_exit(watcher_, caf::exit_reason::user_shutdown);
    auto why = "redis.sentinels: " + context_text(failed);
    if (code == sec::invalid_config) // a master name no sentinel knows: exit 2
      throw std::invalid_argument(why);
    throw startup_error(why);
  }
  if (failed) // the connections retry; the watcher keeps asking
    spdlog::warn("redis.sentinels: {} (retrying)", context_text(failed));
}

void redis_topology::stop() {
  caf::anon_send_exit(shared_, caf::exit_reason::user_shutdown);
  if (watcher_)
    caf::anon_send_exit(watcher_, caf::exit_reason::user_shutdown);
}

} // namespace rill
