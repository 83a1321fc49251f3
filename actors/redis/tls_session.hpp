#pragma once

// TLS for one Redis connection, on OpenSSL memory BIOs: the connection's
// socket stays where it is (CAF's broker, non-blocking, the link's direct
// send()), and this class only turns the core's plaintext into records and
// the socket's records into plaintext. Not CAF's openssl module: that one is
// built for node links (process-wide `openssl.*` settings, no SNI or host
// name check, exceptions on the I/O thread).
//
// The context (CA, client certificate, verification) is made once per set of
// options; each connection attempt gets a fresh session.

#include <rill/actors/options.hpp>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <memory>
#include <string>
#include <vector>

// OpenSSL's types, without its headers in every includer.
struct ssl_ctx_st;
struct ssl_st;
struct bio_st;

namespace rill {

/// An `SSL_CTX` for `opts`: the CA file (or the system store), the client
/// certificate and key, peer verification unless `tls_insecure`. Errors name
/// the option and the file (a missing CA file, a key that does not match).
caf::expected<std::shared_ptr<ssl_ctx_st>> make_tls_context(const redis_options& opts);

class tls_session {
public:
  /// A client session to `opts.host` (SNI and the name check use
  /// `tls_server_name` if set; an IP address is checked against the
  /// certificate's IP SANs, without SNI).
  tls_session(std::shared_ptr<ssl_ctx_st> ctx, const redis_options& opts);
  ~tls_session();
  tls_session(const tls_session&) = delete;
  tls_session& operator=(const tls_session&) = delete;

  /// Starts the handshake: the ClientHello goes to `wire`.
  caf::error start(std::vector<char>& wire);

  /// Plaintext to send: records go to `wire` (held until the handshake is
  /// done).
  caf::error write(const std::vector<char>& plain, std::vector<char>& wire);

  /// Bytes from the socket: plaintext to `plain`; handshake records and
  /// held plaintext, once the handshake completes, to `wire`.
  caf::error read(const char* data, size_t size, std::vector<char>& plain, std::vector<char>& wire);

  bool established() const noexcept { return established_; }

private:
  caf::error fail(int rc, const char* during);
  void drain(std::vector<char>& wire);
  caf::error flush_held(std::vector<char>& wire);

  std::shared_ptr<ssl_ctx_st> ctx_;
  ssl_st* ssl_ = nullptr;
  bio_st* in_ = nullptr;  ///< socket -> OpenSSL (owned by ssl_)
  bio_st* out_ = nullptr; ///< OpenSSL -> socket (owned by ssl_)
  std::string endpoint_;
  bool established_ = false;
  bool insecure_ = false;
  std::vector<char> held_;
};

} // namespace rill
