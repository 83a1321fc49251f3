#pragma once

// Staged Redis effects of one entry (docs/exactly-once.md). A callback stages
// writes; nothing is sent until the entry's last callback succeeded. Then the
// reader applies them together with the entry's XACK in one Lua script, behind
// a fence (the entry is still pending for this consumer with the delivery
// count its worker received), so a redelivered entry never applies its
// effects twice and a consumer that lost its entry to a claim applies none.

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rill {

/// One staged write. `op` is "hincrby", "set", "xadd", "publish" or, for the
/// generic form, the Redis command's name in upper case.
struct effect {
  std::string op;
  /// The key written (empty for publish, whose channel is `args[0]`).
  std::string key;
  std::vector<std::string> args;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, effect& x) {
  return f(caf::meta::type_name("rill::effect"), x.op, x.key, x.args);
}

/// What keys an entry's effects may touch, set by the runtime per consumer.
struct effect_rules {
  /// In Redis Cluster: the source stream's slot; every effect key must be in
  /// it (one script, one slot: hash tags), else the entry fails permanently.
  std::optional<uint16_t> slot;
  /// Keys the generic `command` form may write (globs, fnmatch syntax).
  std::vector<std::string> command_keys;
};

/// The writes one entry stages (`async_context::effects()`, or the second
/// argument of a synchronous callback `caf::error(const stream_entry&,
/// rill::effects&)`). The typed builders are checked inside the script before
/// anything of the entry is written (key types, integer values), so an entry's
/// typed effects are applied all or not at all. A staging mistake (a key in
/// another cluster slot, a command that is not allowed) fails the entry
/// permanently: it is dead-lettered with the reason, nothing applied.
class effects {
public:
  effects() = default;
  explicit effects(std::shared_ptr<const effect_rules> rules) : rules_(std::move(rules)) {}

  /// `HINCRBY key field n` (the field must hold an integer, or be missing).
  effects& hincrby(std::string key, std::string field, int64_t n);

  /// `SET key value`.
  effects& set(std::string key, std::string value);

  /// `XADD stream * fields...` (names and values alternating, at least one pair).
  effects& xadd(std::string stream, std::vector<std::string> fields);

  /// `PUBLISH channel message` (no key: any node of a cluster broadcasts it).
  effects& publish(std::string channel, std::string message);

  /// A write command with its key first: `argv = {"SADD", key, member...}`.
  /// Only single-key write commands (see `allowed_command`) on a key matching
  /// one of the consumer's `effect_keys` patterns. Checked like the typed
  /// builders for its slot, but not for types: if it fails in Redis after
  /// other effects of the same entry were written, those stay written and the
  /// entry is retried (apply it first, or make it idempotent).
  effects& command(std::vector<std::string> argv);

  bool empty() const noexcept { return list_.empty(); }
  size_t size() const noexcept { return list_.size(); }
  const std::vector<effect>& list() const noexcept { return list_; }
  std::vector<effect> take() noexcept {
    auto out = std::move(list_);
    list_.clear(); // a moved-from vector is valid, not necessarily empty
    return out;
  }

  /// The first staging mistake, or empty. The entry then fails permanently.
  const std::string& error() const noexcept { return error_; }

  /// True if `name` (any case) is a single-key write command with its key
  /// first that the generic form accepts.
  static bool allowed_command(const std::string& name);

private:
  bool check_key(const std::string& what, const std::string& key);

  std::shared_ptr<const effect_rules> rules_;
  std::vector<effect> list_;
  std::string error_;
};

/// Field names and values of one XADD effect at most (Lua's unpack limit).
constexpr size_t max_effect_args = 4000;

} // namespace rill
