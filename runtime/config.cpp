#include <rill/runtime/config.hpp>

#include <rill/actors/error.hpp>
#include <rill/actors/messages.hpp>
#include <rill/actors/redis/tls_session.hpp>
#include <rill/runtime/redis_settings.hpp>
#include <rill/runtime/secrets.hpp>

#include <caf/config_option_set.hpp>
#include <caf/config_value.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/settings.hpp>

#include <spdlog/common.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace rill {

config::config() {
  actor_system_config::load<caf::io::middleman>();    // name hidden by config::load
  actor_system_config::load<caf::openssl::manager>(); // TLS between nodes
  opt_group{custom_options_, "global"}
    .add(redis_address, "redis", "Redis address as HOST:PORT (a cluster: HOST:PORT,HOST:PORT...)")
    .add(consumer.stream, "stream", "stream key")
    .add(consumer.group, "group", "consumer group")
    .add(consumer.consumer, "consumer", "consumer name (default: <host>-<pid>)")
    .add(consumer.max_in_flight, "max-in-flight", "workers = credits = entries in flight")
    .add(count, "count", "entries to produce / to consume before exit (0: until signal)")
    .add(listen, "listen", "node: publish readers on [HOST:]PORT")
    .add(join, "join", "node: run workers for the reader node at HOST:PORT")
    .add(plain, "plain", "node: unencrypted node links (required until TLS is set up)")
    .add(remote_workers_only, "remote-workers-only", "node: no local workers for readers")
    .add(scheduler_threads, "scheduler-threads", "actor scheduler threads (0: one per core)");
  add_redis_options(custom_options_, *this);
  opt_group{custom_options_, "consumer"}
    .add(consumer.stream, "stream", "stream key")
    .add(consumer.group, "group", "consumer group")
    .add(consumer.consumer, "name", "consumer name")
    .add(consumer.max_in_flight, "max-in-flight", "workers = credits")
    .add(consumer.block, "block", "XREADGROUP BLOCK time")
    .add(consumer.ack_batch, "ack-batch", "acks per XACK at most")
    .add(consumer.ack_delay, "ack-delay", "longest wait before flushing acks")
    .add(consumer.ack_linger, "ack-linger", "remote worker pools: longest wait to batch acks")
    .add(consumer.start_id, "start-id", "ID a new group starts at (0 or $)")
    .add(consumer.stop_timeout, "stop-timeout", "graceful stop deadline")
    .add(consumer.max_deliveries, "max-deliveries", "deliveries before dead-lettering")
    .add(consumer.order_by, "order-by",
         "field whose value orders entries: same value in stream order, others in parallel")
    .add(consumer.max_key_hold, "max-key-hold",
         "order-by: dead-letter an entry that held its key this long since its first failure")
    .add(consumer.max_waiting, "max-waiting",
         "order-by: entries waiting behind busy keys, beyond the workers (0: = workers)")
    .add(consumer.max_parked, "max-parked",
         "order-by: entries parked behind hot keys (IDs only, read back later; 0: none)")
    .add(consumer.redeliver_base, "redeliver-base", "first wait before a redelivery")
    .add(consumer.redeliver_cap, "redeliver-cap", "longest wait before a redelivery")
    .add(consumer.dead_letter_stream, "dead-letter-stream", "default: <stream>:dead")
    .add(consumer.claim_min_idle, "claim-min-idle", "claim entries idle this long (0: off)")
    .add(consumer.claim_interval, "claim-interval", "how often to look for them")
    .add(consumer.name_lease, "name-lease",
         "lease the consumer name to this process (0: no check for a second one)")
    .add(consumer.orphan_check, "orphan-check",
         "how often to look for own pending entries nobody holds (0: after reconnects only)")
    .add(consumer.consumer_idle_timeout, "consumer-idle-timeout",
         "remove consumers idle this long with nothing pending (0: never)")
    .add(consumer.callback_timeout, "callback-timeout", "fail async callbacks after this")
    .add(consumer.effect_keys, "effect-keys", "keys the generic effects form may write (globs)");
  opt_group{custom_options_, "producer"}
    .add(producer.maxlen, "maxlen", "XADD MAXLEN ~ N (0: no trimming)")
    .add(producer.max_in_flight, "max-in-flight", "XADD requests outstanding")
    .add(producer.max_queued, "max-queued", "XADD requests queued before backpressure")
    .add(producer.max_bytes, "max-bytes", "bytes of entries held (in flight + queued) at most");
  opt_group{custom_options_, "node"}
    .add(listen, "listen", "publish this node's readers on [HOST:]PORT")
    .add(join, "join", "reader node for worker pools without their own join=")
    .add(node_readers, "readers", "readers to run: [\"stream=S group=G\", ...]")
    .add(node_workers, "workers",
         "worker pools: [\"stream=S group=G workers=N callbacks=a,b join=H:P\", ...]");
  opt_group{custom_options_, "http"}
    .add(http.listen, "listen", "serve /metrics, /livez, /readyz and / on HOST:PORT or PORT")
    .add(http.token, "token", "bearer token for /metrics and /api/history (or RILL_HTTP_TOKEN)")
    .add(http.ready_stall, "ready-stall", "/readyz fails after this long without progress")
    .add(http.max_connections, "max-connections", "HTTP connections held at once")
    .add(http.token_file, "token-file", "file holding the bearer token (if no http.token)");
  add_gateway_options(custom_options_, gateway);
  opt_group{custom_options_, "metrics"}
    .add(metrics.interval, "interval", "how often lag and ages are read from Redis")
    .add(metrics.per_consumer, "per-consumer", "add a consumer label to per-group series")
    .add(metrics.process_histograms, "process-histograms",
         "callback histograms once per process, not per stream and group")
    .add(metrics.buckets.duration, "duration-buckets",
         "histogram bounds (s) of callback durations and round trips")
    .add(metrics.buckets.age, "age-buckets", "histogram bounds (s) of entry ages");
  opt_group{custom_options_, "log"}.add(log_level, "level", "trace, debug, info, warn, error, off");
  register_message_types(*this);
  // On small machines, CAF's idle workers spinning in 50 us sleeps ("moderate"
  // polling) steal the CPU that Redis and the I/O thread need: measured 1.6-2x
  // throughput and a third less round-trip latency without that phase (see
  // docs/benchmarks.md). Flags and the config file still override these.
  set("work-stealing.moderate-poll-attempts", size_t{0});
  // A node link that stays silent is a node that hangs (SIGSTOP, a stalled
  // VM): with heartbeats, CAF drops it after the timeout, its workers go
  // down at the reader and their entries are redelivered elsewhere (without,
  // the reader renewed their leases for as long as the node hung).
  set("middleman.heartbeat-interval", caf::timespan{std::chrono::seconds{1}});
  set("middleman.connection-timeout", caf::timespan{std::chrono::seconds{6}});
  set("work-stealing.aggressive-poll-attempts", size_t{10});
}

namespace {

// CAF's CLI parser only takes `--name=value`; the subcommands document
// `--name value`. Join the two for known options that are not boolean flags.
bool is_timespan(const caf::config_option* opt) {
  return opt != nullptr && opt->type_name() == "timespan";
}

/// The help says "0: off" for several durations, but CAF's parser wants a
/// unit ("0s"): a plain 0 means zero of any unit.
void zero_durations(const caf::config_option_set& opts, std::vector<std::string>& args) {
  for (auto& a : args) {
    auto eq = a.find('=');
    if (a.compare(0, 2, "--") != 0 || eq == std::string::npos || a.compare(eq, 2, "=0") != 0
        || a.size() != eq + 2)
      continue;
    if (is_timespan(opts.cli_long_name_lookup(caf::string_view{a}.substr(2, eq - 2))))
      a += "s";
  }
}

std::vector<std::string> join_flag_values(const caf::config_option_set& opts,
                                          std::vector<std::string> args) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a.size() > 2 && a.compare(0, 2, "--") == 0 && a.find('=') == std::string::npos
        && i + 1 < args.size()) {
      auto name = caf::string_view{a}.substr(2);
      bool takes_value = name == "config-file";
      if (auto opt = opts.cli_long_name_lookup(name))
        takes_value = !opt->is_flag();
      if (takes_value) {
        out.emplace_back(a + "=" + args[i + 1]);
        ++i;
        continue;
      }
    }
    out.emplace_back(a);
  }
  return out;
}

// CAF accepts any key in the config file; a typo there must not be ignored.
caf::error reject_unknown_keys(const caf::config_option_set& opts, const caf::settings& content) {
  for (const auto& [key, value] : content) {
    if (auto dict = caf::get_if<caf::settings>(&value)) {
      for (const auto& kv : *dict)
        if (opts.qualified_name_lookup(key, kv.first) == nullptr)
          return make_error(sec::invalid_config, "unknown option '" + key + "." + kv.first + "'");
    } else if (key != "config-file" && opts.qualified_name_lookup("global", key) == nullptr) {
      return make_error(sec::invalid_config, "unknown option '" + key + "'");
    }
  }
  return caf::none;
}

/// Whether the text has any line besides blanks and comments.
bool has_settings(const std::string& text) {
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line)) {
    auto first = line.find_first_not_of(" \t\r");
    if (first != std::string::npos && line[first] != ';' && line[first] != '#')
      return true;
  }
  return false;
}

/// CAF 0.17 applies a config file only in its INI form (`[section]`, then
/// `key = value` lines) and skips `section { key = value }` blocks - the form
/// later CAF versions document - without a word, so such a file took no
/// effect at all. rill reads the file itself first, in either form, and
/// applies each setting; CAF then parses only the flags, which win.
caf::error apply_config_file(const std::string& path, const caf::config_option_set& opts,
                             caf::settings& content, std::optional<std::string>& password) {
  std::ifstream in{path, std::ios::binary};
  std::string text{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  if (!in.good() && !in.eof())
    return make_error(sec::invalid_config, "config file " + path + ": cannot be read");
  password = take_password_line(text); // CAF never sees it
  std::istringstream source{text};
  auto file = caf::actor_system_config::parse_config(source);
  if (!file)
    return make_error(sec::invalid_config,
                      "config file " + path + ": " + caf::to_string(file.error()));
  if (file->empty() && has_settings(text)) // e.g. a block left open: CAF returns nothing
    return make_error(sec::invalid_config, "config file " + path
                                             + ": cannot be read (unclosed "
                                               "block or bad syntax)");
  auto apply = [&](const std::string& category, const std::string& key,
                   caf::config_value value) -> caf::error {
    auto name = category == "global" ? key : category + "." + key;
    auto opt = opts.qualified_name_lookup(category, key);
    if (opt == nullptr)
      return make_error(sec::invalid_config,
                        "config file " + path + ": unknown option '" + name + "'");
    if (auto i = caf::get_if<caf::config_value::integer>(&value); i && *i == 0 && is_timespan(opt))
      value = caf::timespan{0}; // "claim-min-idle = 0", as the help says
    if (auto err = opt->check(value))
      return make_error(sec::invalid_config, "config file " + path + ": bad value for '" + name
                                               + "': " + caf::to_string(value));
    opt->store(value);
    caf::put(content, name, value);
    return caf::none;
  };
  for (const auto& [key, value] : *file) {
    if (auto section = caf::get_if<caf::settings>(&value)) {
      auto known = std::any_of(opts.begin(), opts.end(),
                               [&](const caf::config_option& x) { return x.category() == key; });
      if (!known)
        return make_error(sec::invalid_config,
                          "config file " + path + ": unknown section '" + key + "'");
      for (const auto& [name, setting] : *section)
        if (auto err = apply(key, name, setting))
          return err;
    } else if (key != "config-file") {
      if (auto err = apply("global", key, value))
        return err;
    }
  }
  return caf::none;
}

} // namespace

caf::error config::load(std::vector<std::string> args) {
  for (auto& a : args) // `--config FILE` is CAF's `--config-file FILE`
    if (a == "--config" || a.rfind("--config=", 0) == 0)
      a.replace(0, 8, "--config-file");
  args = join_flag_values(custom_options_, std::move(args));
  zero_durations(custom_options_, args);
  // Only a file that was asked for: CAF's default, caf-application.ini in the
  // working directory, would let a stray file reconfigure an app.
  std::string file;
  bool given = false;
  for (const auto& a : args)
    if (a.rfind("--config-file=", 0) == 0) {
      file = a.substr(14);
      given = true;
    }
  // Secrets: flag, then environment, then file; read raw, never echoed.
  auto password = take_flag(args, "redis.password");
  bool password_flag = password.has_value();
  // A URL given as a flag outranks RILL_REDIS_PASSWORD; one in the file does not.
  auto url_flag = std::any_of(args.begin(), args.end(), [](const std::string& a) {
    return a.rfind("--redis=", 0) == 0 || a.rfind("--redis.url=", 0) == 0;
  });
  auto token = take_flag(args, "http.token");
  auto sentinel_password = take_flag(args, "redis.sentinel-password");
  auto user_given = std::any_of(args.begin(), args.end(), [](const std::string& a) {
    return a.rfind("--redis.user=", 0) == 0;
  });
  std::optional<std::string> file_password;
  if (given)
    if (auto err = apply_config_file(file, custom_options_, content, file_password))
      return err;
  bool password_env = false;
  if (!password) {
    password = from_env("RILL_REDIS_PASSWORD");
    password_env = password.has_value();
  }
  if (!password)
    password = file_password;
  if (password)
    redis.password = *password;
  std::istringstream no_file; // read above: CAF parses the flags only
  if (auto err = parse(std::move(args), no_file)) {
    auto text = caf::to_string(err);
    // parser_error(not_an_option, ({"argument" = "--x"})) -> readable line
    const auto& ctx = err.context();
    std::string arg;
    if (!ctx.empty())
      arg = caf::to_string(ctx);
    return make_error(sec::invalid_config, "bad option or value " + arg + " (" + text + ")");
  }
  if (!remainder.empty())
    return make_error(sec::invalid_config, "unexpected argument '" + remainder.front() + "'");
  if (auto env_user = from_env("RILL_REDIS_USER"); env_user && !user_given)
    redis.user = *env_user;
  if (!token)
    token = from_env("RILL_HTTP_TOKEN");
  if (!token && !http.token_file.empty()) {
    std::ifstream tf{http.token_file, std::ios::binary};
    token = std::string{std::istreambuf_iterator<char>{tf}, std::istreambuf_iterator<char>{}};
    if (!tf.good() && !tf.eof())
      return make_error(sec::invalid_config, "http.token-file: cannot read " + http.token_file);
    while (!token->empty() && (token->back() == '\n' || token->back() == '\r'))
      token->pop_back();
    if (token->empty()) // an empty token would turn authentication off
      return make_error(sec::invalid_config, "http.token-file: " + http.token_file + " is empty");
  }
  if (token)
    http.token = *token;
  if (cli_helptext_printed)
    return caf::none;
  if (auto err = reject_unknown_keys(custom_options_, content))
    return err;
  if (redis_address.empty())
    redis_address = redis_url; // --redis wins over redis.url
  if (!redis_address.empty()) {
    if (auto err = parse_seeds(redis_address, redis))
      return err;
    if (redis_address.find("://") != std::string::npos) {
      auto url = parse_redis_url(redis_address);
      if (url->password && !password_flag && (url_flag || !password_env))
        redis.password = *url->password;
      if (!url->user.empty() && !user_given)
        redis.user = url->user;
    }
  }
  if (auto err = load_sentinels(*this, sentinel_password))
    return err;
  if (redis_cluster != "auto" && redis_cluster != "true" && redis_cluster != "false")
    return make_error(sec::invalid_config,
                      "redis.cluster: auto, true or false, got '" + redis_cluster + "'");
  if (redis_cluster == "true")
    redis.cluster = true;
  if (!redis.seeds.empty() && redis_cluster == "false")
    return make_error(sec::invalid_config,
                      "--redis: several addresses are cluster seeds (redis.cluster=false)");
  if (spdlog::level::from_str(log_level) == spdlog::level::off && log_level != "off")
    return make_error(sec::invalid_config, "log.level: unknown level '" + log_level + "'");
  if (auto err = validate(redis))
    return err;
  if (redis.tls) // unreadable or mismatched TLS files are a config error, found now
    if (auto ctx = make_tls_context(redis); !ctx)
      return ctx.error();
  if (auto err = validate(producer))
    return err;
  if (auto err = validate(http))
    return err;
  if (auto err = validate(metrics))
    return err;
  if (auto err = validate(gateway))
    return err;
  if (scheduler_threads > 256)
    return make_error(sec::invalid_config, "scheduler-threads: at most 256");
  auto threads = scheduler_threads != 0
                   ? scheduler_threads
                   : std::max<uint64_t>(1, std::thread::hardware_concurrency());
  set("scheduler.max-threads", static_cast<size_t>(threads));
  return caf::none;
}

caf::settings config::dump_content() const {
  auto result = actor_system_config::dump_content();
  if (!redis.password.empty())
    caf::put(result, "redis.password", std::string{"<redacted>"});
  if (!redis_address.empty()) // a URL may carry a password
    caf::put(result, "redis", redacted_url(redis_address));
  if (!redis_url.empty())
    caf::put(result, "redis.url", redacted_url(redis_url));
  if (!http.token.empty())
    caf::put(result, "http.token", std::string{"<redacted>"});
  if (!redis.sentinel_password.empty())
    caf::put(result, "redis.sentinel-password", std::string{"<redacted>"});
  if (!openssl_passphrase.empty())
    caf::put(result, "openssl.passphrase", std::string{"<redacted>"});
  return result;
}

caf::error validate(const http_settings& h) {
  if (!h.listen.empty()) {
    std::string host;
    uint16_t port = 0;
    if (auto err = parse_listen(h.listen, host, port))
      return err;
  }
  if (h.ready_stall.count() <= 0)
    return make_error(sec::invalid_config, "http.ready-stall: must be > 0");
  if (h.max_connections == 0 || h.max_connections > 100000)
    return make_error(sec::invalid_config, "http.max-connections: 1 to 100000");
  if (h.token.find_first_of(" \t\r\n") != std::string::npos)
    return make_error(sec::invalid_config, "http.token: no blanks or line breaks");
  return caf::none;
}

caf::error validate(const metrics_settings& m) {
  if (m.interval < std::chrono::milliseconds{100})
    return make_error(sec::invalid_config, "metrics.interval: at least 100ms");
  for (const auto* list : {&m.buckets.duration, &m.buckets.age}) {
    if (list->empty() || list->size() > 64)
      return make_error(sec::invalid_config, "metrics.*-buckets: 1 to 64 bounds");
    for (size_t i = 0; i < list->size(); ++i)
      if (!((*list)[i] > 0) || (i > 0 && (*list)[i] <= (*list)[i - 1]))
        return make_error(sec::invalid_config,
                          "metrics.*-buckets: bounds must be positive and ascending");
  }
  return caf::none;
}

} // namespace rill
