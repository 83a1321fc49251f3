#pragma once

// Internal to the runtime (not installed): a response that stays open.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace rill {

/// The body of a streamed response (server-sent events): the server wrote
/// the headers and hands the connection to whoever asked for a stream. Every
/// member runs on the server's thread only. Bytes are shared, not copied: one
/// event text goes to every client that gets it.
class http_stream {
public:
  virtual ~http_stream() = default;

  /// Queues `bytes` after what is queued. False, and the stream is closed,
  /// when they would take the bytes queued beyond `max_queued_bytes` (a
  /// client that does not read); a stream with nothing queued takes one item
  /// of any size, so an entry bigger than the bound still gets through.
  virtual bool send(std::shared_ptr<const std::string> bytes) = 0;

  /// Like `send`, but only queues: the bytes go out at the next `flush` (or
  /// `send`). A writer with many clients queues one event to all of them,
  /// then flushes once, so events that came while it was busy leave in one
  /// write per client.
  virtual bool queue(std::shared_ptr<const std::string> bytes) = 0;

  /// Writes what is queued.
  virtual void flush() = 0;

  /// Closes the connection (what is queued is dropped).
  virtual void close() = 0;

  virtual bool closed() const noexcept = 0;

  /// Bytes queued and not yet taken by the socket.
  virtual size_t queued_bytes() const noexcept = 0;

  /// Called once when the stream closes, from either side (the client went,
  /// a write failed, `close`, the bound), later on the server's thread -
  /// never from inside `send` or `close`.
  virtual void on_close(std::function<void()> fn) = 0;

  /// Called after each write the socket completed.
  virtual void on_written(std::function<void()> fn) = 0;
};

} // namespace rill
