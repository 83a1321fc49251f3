#include <rill/actors/effects.hpp>

#include <rill/actors/redis/key_slot.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <fnmatch.h>

namespace rill {

namespace {

std::string upper(std::string x) {
  std::transform(x.begin(), x.end(), x.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return x;
}

} // namespace

bool effects::allowed_command(const std::string& name) {
  // Single-key writes with the key as first argument: the script passes it
  // through KEYS (cluster routing, and a script must declare every key).
  static constexpr std::array<const char*, 37> writes{
    "SET",    "SETNX",       "SETEX",  "PSETEX",   "APPEND",       "INCR",    "INCRBY",   "DECR",
    "DECRBY", "INCRBYFLOAT", "DEL",    "UNLINK",   "EXPIRE",       "PEXPIRE", "EXPIREAT", "PERSIST",
    "HSET",   "HSETNX",      "HDEL",   "HINCRBY",  "HINCRBYFLOAT", "LPUSH",   "RPUSH",    "LTRIM",
    "LREM",   "SADD",        "SREM",   "ZADD",     "ZINCRBY",      "ZREM",    "PFADD",    "XADD",
    "XTRIM",  "XDEL",        "SETBIT", "SETRANGE", "PEXPIREAT"};
  auto n = upper(name);
  return std::find(writes.begin(), writes.end(), n) != writes.end();
}

bool effects::check_key(const std::string& what, const std::string& key) {
  if (!error_.empty())
    return false;
  if (rules_ && rules_->slot && key_slot(key) != *rules_->slot) {
    error_ = what + ": key '" + key + "' is in cluster slot " + std::to_string(key_slot(key))
             + ", not in the stream's slot " + std::to_string(*rules_->slot)
             + " (give it the stream's hash tag)";
    return false;
  }
  return true;
}

effects& effects::hincrby(std::string key, std::string field, int64_t n) {
  if (check_key("hincrby", key))
    list_.push_back({"hincrby", std::move(key), {std::move(field), std::to_string(n)}});
  return *this;
}

effects& effects::set(std::string key, std::string value) {
  if (check_key("set", key))
    list_.push_back({"set", std::move(key), {std::move(value)}});
  return *this;
}

effects& effects::xadd(std::string stream, std::vector<std::string> fields) {
  if (!error_.empty())
    return *this;
  if (fields.empty() || fields.size() % 2 != 0 || fields.size() > max_effect_args) {
    error_ = "xadd to '" + stream + "': needs 1 to " + std::to_string(max_effect_args / 2)
             + " field name/value pairs, got " + std::to_string(fields.size()) + " strings";
    return *this;
  }
  if (check_key("xadd", stream))
    list_.push_back({"xadd", std::move(stream), std::move(fields)});
  return *this;
}

effects& effects::publish(std::string channel, std::string message) {
  if (error_.empty())
    list_.push_back({"publish", {}, {std::move(channel), std::move(message)}});
  return *this;
}

effects& effects::command(std::vector<std::string> argv) {
  if (!error_.empty())
    return *this;
  if (argv.size() < 2 || argv.size() > max_effect_args + 2 || !allowed_command(argv[0])) {
    error_ = "command: '" + (argv.empty() ? std::string{} : argv[0])
             + "' is not a single-key write command rill stages (see effects::allowed_command)";
    return *this;
  }
  auto& key = argv[1];
  auto declared = rules_ != nullptr
                  && std::any_of(rules_->command_keys.begin(), rules_->command_keys.end(),
                                 [&](const std::string& glob) {
                                   return ::fnmatch(glob.c_str(), key.c_str(), 0) == 0;
                                 });
  if (!declared) {
    error_ = "command " + upper(argv[0]) + ": key '" + key
             + "' matches no declared pattern (consumer.effect-keys)";
    return *this;
  }
  if (!check_key("command " + upper(argv[0]), key))
    return *this;
  effect e{upper(argv[0]), std::move(key), {}};
  e.args.assign(std::make_move_iterator(argv.begin() + 2), std::make_move_iterator(argv.end()));
  list_.push_back(std::move(e));
  return *this;
}

} // namespace rill
