// The `redis.*` options: registered here, and the Sentinel ones applied, so
// config.cpp keeps to loading and checking.

#include <rill/runtime/redis_settings.hpp>

#include <rill/actors/error.hpp>
#include <rill/runtime/config.hpp>
#include <rill/runtime/secrets.hpp>

#include <caf/config_option_adder.hpp>

namespace rill {

void add_redis_options(caf::config_option_set& opts, settings& s) {
  auto& redis = s.redis;
  caf::config_option_adder{opts, "redis"}
    .add(redis.host, "host", "Redis host")
    .add(redis.port, "port", "Redis port")
    .add(redis.user, "user", "ACL user for AUTH")
    .add(redis.password, "password", "password for AUTH (never logged)")
    .add(redis.db, "db", "database for SELECT")
    .add(redis.client_name, "client-name", "name for CLIENT SETNAME")
    .add(redis.connect_timeout, "connect-timeout", "deadline for connect + handshake")
    .add(redis.request_timeout, "request-timeout", "deadline for each reply")
    .add(redis.reconnect_min, "reconnect-min", "first reconnect delay")
    .add(redis.reconnect_max, "reconnect-max", "longest reconnect delay")
    .add(redis.max_queued, "max-queued", "requests queued while connecting")
    .add(s.redis_url, "url", "redis://[user[:password]@]host[:port][/db] or rediss:// (TLS)")
    .add(redis.tls, "tls", "TLS to Redis (rediss:// sets it)")
    .add(redis.tls_ca_file, "tls-ca-file", "CA certificates (PEM) for the server (default: system)")
    .add(redis.tls_cert_file, "tls-cert-file", "client certificate (PEM), for mutual TLS")
    .add(redis.tls_key_file, "tls-key-file", "client key (PEM), for mutual TLS")
    .add(redis.tls_server_name, "tls-server-name", "name to verify and send as SNI (default: host)")
    .add(redis.tls_insecure, "tls-insecure", "do not verify the server's certificate (warns)")
    .add(s.redis_cluster, "cluster", "Redis Cluster: auto (ask the server), true or false")
    .add(redis.cluster_refresh, "cluster-refresh", "cluster: re-read the slot map this often")
    .add(s.redis_sentinels, "sentinels",
         "Sentinel: HOST:PORT,... to ask for the master (redis.host/port unused)")
    .add(redis.sentinel_master, "sentinel-master", "Sentinel: the master's name")
    .add(redis.sentinel_password, "sentinel-password",
         "Sentinel: AUTH password for the sentinels (or RILL_SENTINEL_PASSWORD; never logged)")
    .add(redis.sentinel_refresh, "sentinel-refresh",
         "Sentinel: ask the sentinels again this often");
}

caf::error load_sentinels(settings& s, const std::optional<std::string>& password_flag) {
  if (password_flag)
    s.redis.sentinel_password = *password_flag;
  else if (auto env = from_env("RILL_SENTINEL_PASSWORD"))
    s.redis.sentinel_password = *env;
  if (s.redis_sentinels.empty())
    return caf::none;
  if (auto err = parse_address_list(s.redis_sentinels, s.redis.sentinels))
    return make_error(sec::invalid_config, "redis.sentinels: " + context_text(err));
  return caf::none;
}

} // namespace rill
