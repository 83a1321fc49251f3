#pragma once

#include <caf/error.hpp>

#include <cstdint>
#include <string>

namespace rill {

/// Everything that can go wrong in rill, as values (`caf::error` of category
/// "rill"). A caller can tell "Redis said no" (`reply_error` and the specific
/// reply codes) from "Redis is unreachable" (`redis_unavailable`,
/// `connect_failed`, `connection_lost`, `request_timeout`).
enum class sec : uint8_t {
  none = 0,
  /// Not connected: the connection is down and waiting to reconnect.
  redis_unavailable,
  /// TCP connect refused, unreachable, or not done within its deadline.
  connect_failed,
  /// The connection closed while the request was pending.
  connection_lost,
  /// Redis did not answer within the request's deadline.
  request_timeout,
  /// AUTH was rejected (wrong user or password) or required but not sent.
  auth_failed,
  /// Redis answered with an error reply not covered by a specific code.
  reply_error,
  /// WRONGTYPE: the key holds a value of another type.
  wrong_type,
  /// NOGROUP: the stream or its consumer group does not exist.
  no_group,
  /// NOPERM: the ACL user may not run this command or touch this key.
  no_permission,
  /// The server sent bytes that are not RESP2.
  protocol_error,
  /// A reply had a shape the command never produces.
  unexpected_reply,
  /// Too many requests queued; the caller should slow down.
  backpressure,
  /// A configuration value is missing, unknown or out of range.
  invalid_config,
  /// An API call got an argument it cannot use (e.g. an odd field list).
  invalid_argument,
  /// A callback failed (returned an error or threw); the entry is retried.
  callback_failed,
  /// A callback says retrying is pointless (e.g. a malformed entry): the entry
  /// is dead-lettered at once.
  permanent_failure,
  /// A callback did not finish within `callback_timeout`.
  callback_timeout,
  /// The component was stopped.
  stopped,
  // New codes go last: the numbers travel between nodes.
  /// LOADING / BUSY / MASTERDOWN: Redis is up but cannot serve yet (loading
  /// its data set, running a long script); worth a retry soon.
  server_busy,
  /// TLS with Redis failed: a certificate that does not verify, a server that
  /// wants a client certificate, no TLS on the other side. Retrying the same
  /// way does not fix it.
  tls_failed,
};

/// Returns the enumerator name, e.g. "redis_unavailable".
std::string to_string(sec code);

/// Creates an error of category "rill" carrying `text` as context.
caf::error make_error(sec code, std::string text);

/// Creates an error of category "rill" without context.
caf::error make_error(sec code);

/// What a callback returns to have its entry dead-lettered at once instead of
/// retried.
caf::error fail_permanently(std::string reason);

/// Returns the rill code of `err`, or `sec::none` for errors of other
/// categories.
sec code_of(const caf::error& err);

/// Renders any error as one readable line: "rill::sec::wrong_type: <text>" for
/// rill errors, CAF's own rendering otherwise.
std::string describe(const caf::error& err);

/// Returns the text an error carries (its context), without the code name;
/// empty if none.
std::string context_text(const caf::error& err);

/// Maps the text of a Redis error reply to a rill error ("WRONGTYPE ..." ->
/// `sec::wrong_type`, "NOGROUP ..." -> `sec::no_group`, ...; others
/// `sec::reply_error`), keeping the text as context.
caf::error error_from_reply(const std::string& text);

/// "Redis is unreachable": no connection, a lost one, no reply in time, or
/// nothing sent. Worth a retry once Redis is back; says nothing about the
/// command (a request that was sent may have run).
bool is_unreachable(const caf::error& err);

/// "Redis said no": an error reply to this command (wrong type, no group,
/// no permission, a script error, ...). Retrying the same command gets the
/// same answer, except for `server_busy` (loading, busy script), which is
/// neither: Redis is up and will serve in a moment.
bool is_refusal(const caf::error& err);

} // namespace rill
