#pragma once

// The one Lua script that applies a batch of entries' staged effects with
// their XACKs (docs/exactly-once.md), its command and its reply parser. For
// each entry, in batch order: the fence (the entry is pending for this
// consumer with the delivery count the worker received: one XPENDING ...
// consumer over the batch's ID range), then the checks
// of its typed effects (key types, integer values) before anything of it is
// written, then its effects and its XACK. An entry that fails the fence or a
// check is skipped; the others go on. Nothing in the script raises: a script
// does not roll back, so an error half-way would leave earlier entries'
// effects without their outcome.

#include <rill/actors/effects.hpp>
#include <rill/actors/redis/command.hpp>
#include <rill/actors/redis/reply.hpp>
#include <rill/actors/stream_entry.hpp>

#include <caf/expected.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace rill {

/// One entry of a batch and what its callbacks staged. The script uses the
/// entry's ID and the delivery count its worker received; the fields come
/// along for a retry or a dead letter if the script fails the entry.
struct effect_item {
  stream_entry entry;
  std::vector<effect> effects;
};

/// What the script did with one entry.
struct effect_outcome {
  enum class kind {
    applied, // fence passed, effects written, XACKed
    fenced,  // not pending for this consumer (claimed by another, or acked -
             // by its new owner, or by an earlier run of this very batch whose
             // reply was lost), or with another delivery count
    failed,  // a check or a write failed: nothing acked; `detail` says why
  };
  kind what = kind::failed;
  std::string detail;
};

/// The script's text and its SHA1 (hex), for EVALSHA.
const std::string& effects_script();
const std::string& effects_script_sha1();

/// `EVALSHA <sha1>` (or, with `by_text`, `EVAL <script>`, which also caches
/// it after a NOSCRIPT) for `items` of `stream`/`group` held by `consumer`.
/// `pending_bound`: at least as many entries as the consumer has pending in
/// the items' ID range (an entry beyond it would be reported fenced).
/// KEYS: the stream, then every distinct effect key (a script must declare
/// each key it writes: cluster routing and CROSSSLOT checks rely on it).
redis_command apply_effects(const std::string& stream, const std::string& group,
                            const std::string& consumer, const std::vector<effect_item>& items,
                            size_t pending_bound, bool by_text);

/// The outcome of each of `n` items, in order.
caf::expected<std::vector<effect_outcome>> parse_effect_outcomes(const redis_reply& reply,
                                                                 size_t n);

} // namespace rill
