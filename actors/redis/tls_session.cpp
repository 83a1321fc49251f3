#include <rill/actors/redis/tls_session.hpp>

#include <rill/actors/error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <atomic>

namespace rill {

namespace {

/// OpenSSL's error queue as one line (and emptied: it is per thread).
std::string openssl_errors() {
  std::string text;
  while (auto code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    if (!text.empty())
      text += "; ";
    text += buf;
  }
  return text.empty() ? std::string{"no detail"} : text;
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

caf::error config_error(const std::string& option, const std::string& file) {
  return make_error(sec::invalid_config, option + ": " + file + ": " + openssl_errors());
}

} // namespace

caf::expected<std::shared_ptr<ssl_ctx_st>> make_tls_context(const redis_options& opts) {
  ERR_clear_error();
  std::shared_ptr<ssl_ctx_st> ctx{SSL_CTX_new(TLS_client_method()), SSL_CTX_free};
  if (!ctx)
    return make_error(sec::invalid_config, "redis.tls: " + openssl_errors());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  if (!opts.tls_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx.get(), opts.tls_ca_file.c_str(), nullptr) != 1)
      return config_error("redis.tls-ca-file", opts.tls_ca_file);
  } else if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1) {
    return make_error(sec::invalid_config, "redis.tls: no system CA store: " + openssl_errors());
  }
  if (opts.tls_cert_file.empty() != opts.tls_key_file.empty())
    return make_error(sec::invalid_config,
                      "redis.tls-cert-file and redis.tls-key-file: give both or neither");
  if (!opts.tls_cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), opts.tls_cert_file.c_str()) != 1)
      return config_error("redis.tls-cert-file", opts.tls_cert_file);
    if (SSL_CTX_use_PrivateKey_file(ctx.get(), opts.tls_key_file.c_str(), SSL_FILETYPE_PEM) != 1)
      return config_error("redis.tls-key-file", opts.tls_key_file);
    if (SSL_CTX_check_private_key(ctx.get()) != 1)
      return make_error(sec::invalid_config, "redis.tls-key-file: " + opts.tls_key_file
                                               + " does not match " + opts.tls_cert_file);
  }
  SSL_CTX_set_verify(ctx.get(), opts.tls_insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, nullptr);
  static std::atomic<bool> warned{false};
  if (opts.tls_insecure && !warned.exchange(true))
    spdlog::warn("redis.tls-insecure: the server's certificate is not checked; anyone on the "
                 "path can read and change what rill sends");
  return ctx;
}

tls_session::tls_session(std::shared_ptr<ssl_ctx_st> ctx, const redis_options& opts) :
  ctx_(std::move(ctx)), endpoint_(endpoint_text(opts.host, opts.port)),
  insecure_(opts.tls_insecure) {
  ssl_ = SSL_new(ctx_.get());
  in_ = BIO_new(BIO_s_mem());
  out_ = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl_, in_, out_); // owned by ssl_ from here
  SSL_set_connect_state(ssl_);
  auto name = opts.tls_server_name.empty() ? opts.host : opts.tls_server_name;
  if (is_ip_literal(name)) {
    // No SNI for an address (RFC 6066); the certificate must list it.
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), name.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl_, name.c_str());
    SSL_set1_host(ssl_, name.c_str());
  }
}

tls_session::~tls_session() {
  SSL_free(ssl_);
}

void tls_session::drain(std::vector<char>& wire) {
  char buf[16 * 1024];
  for (;;) {
    auto n = BIO_read(out_, buf, sizeof buf);
    if (n <= 0)
      return;
    wire.insert(wire.end(), buf, buf + n);
  }
}

caf::error tls_session::fail(int rc, const char* during) {
  auto code = SSL_get_error(ssl_, rc);
  std::string why;
  if (auto verify = SSL_get_verify_result(ssl_); verify != X509_V_OK && !insecure_)
    why = std::string{"the server's certificate does not verify: "}
          + X509_verify_cert_error_string(verify);
  else if (code == SSL_ERROR_ZERO_RETURN)
    why = "the server closed the TLS session";
  else
    why = openssl_errors();
  // TLS 1.3 reports a missing client certificate only after the handshake,
  // as an alert on the first read.
  if (why.find("certificate required") != std::string::npos)
    why = "the server requires a client certificate (redis.tls-cert-file, redis.tls-key-file): "
          + why;
  return make_error(sec::tls_failed,
                    "TLS " + std::string{during} + " with redis " + endpoint_ + " failed: " + why);
}

caf::error tls_session::start(std::vector<char>& wire) {
  ERR_clear_error();
  auto rc = SSL_do_handshake(ssl_);
  if (rc != 1 && SSL_get_error(ssl_, rc) != SSL_ERROR_WANT_READ)
    return fail(rc, "handshake");
  drain(wire);
  return caf::none;
}

caf::error tls_session::flush_held(std::vector<char>& wire) {
  size_t done = 0;
  while (done < held_.size()) {
    auto rc = SSL_write(ssl_, held_.data() + done, static_cast<int>(held_.size() - done));
    if (rc <= 0)
      return fail(rc, "write");
    done += static_cast<size_t>(rc);
  }
  held_.clear();
  drain(wire);
  return caf::none;
}

caf::error tls_session::write(const std::vector<char>& plain, std::vector<char>& wire) {
  held_.insert(held_.end(), plain.begin(), plain.end());
  if (!established_)
    return caf::none; // sent once the handshake is done
  ERR_clear_error();
  return flush_held(wire);
}

caf::error tls_session::read(const char* data, size_t size, std::vector<char>& plain,
                             std::vector<char>& wire) {
  ERR_clear_error();
  if (size > 0 && BIO_write(in_, data, static_cast<int>(size)) != static_cast<int>(size))
    return make_error(sec::tls_failed, "TLS with redis " + endpoint_ + ": " + openssl_errors());
  if (!established_) {
    auto rc = SSL_do_handshake(ssl_);
    drain(wire); // the client's Finished, or an alert
    if (rc != 1) {
      if (SSL_get_error(ssl_, rc) == SSL_ERROR_WANT_READ)
        return caf::none;
      return fail(rc, "handshake");
    }
    established_ = true;
    if (auto err = flush_held(wire))
      return err;
  }
  char buf[16 * 1024];
  for (;;) {
    auto n = SSL_read(ssl_, buf, sizeof buf);
    if (n > 0) {
      plain.insert(plain.end(), buf, buf + n);
      continue;
    }
    auto code = SSL_get_error(ssl_, n);
    drain(wire); // post-handshake messages (session tickets, key updates)
    if (code == SSL_ERROR_WANT_READ)
      return caf::none;
    return fail(n, "read");
  }
}

} // namespace rill
