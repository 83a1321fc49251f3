#pragma once

// Internal to the runtime (not installed): stream entries as server-sent
// events (the gateway's wire format, docs/gateway.md).

#include <rill/actors/stream_entry.hpp>

#include <string>

namespace rill {

/// One entry as an event:
///
///     id: <entry ID>
///     event: <the value of field `event_field`, CR and LF removed; "message"
///             when the entry has no such field or it is empty>
///     data: {"<name>":"<value>",...}
///
/// `data` is one line of JSON holding every field in stream order. A name
/// that occurs more than once holds an array of all its values, in order. A
/// value (or name) that is not valid UTF-8 appears with U+FFFD in place of
/// the bad bytes, and `<name>_base64` holds the exact bytes.
std::string sse_event(const stream_entry& e, const std::string& event_field);

/// The `gap` event: entries after `after` were trimmed; what follows starts
/// at `first_available` (empty: at the next new entry). No `id:` line, so a
/// client that reconnects before the next entry asks from `after` again.
std::string sse_gap_event(const std::string& after, const std::string& first_available);

/// True if `text` is valid UTF-8.
bool valid_utf8(const std::string& text) noexcept;

} // namespace rill
