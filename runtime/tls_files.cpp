#include <rill/runtime/tls_files.hpp>

#include <rill/actors/error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstring>
#include <memory>

namespace rill {

namespace {

/// OpenSSL's reason for the last failure, one line.
std::string last_ssl_error() {
  auto code = ERR_get_error();
  ERR_clear_error();
  if (code == 0)
    return "unknown error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  return buf;
}

/// Hands OpenSSL the configured passphrase; without one an encrypted key
/// fails to load instead of OpenSSL asking "Enter PEM pass phrase:".
int passphrase_cb(char* buf, int size, int, void* user) {
  const auto& pass = *static_cast<const std::string*>(user);
  if (pass.empty() || static_cast<int>(pass.size()) >= size)
    return 0;
  std::memcpy(buf, pass.data(), pass.size());
  return static_cast<int>(pass.size());
}

caf::error bad(const std::string& option, const std::string& file, const std::string& why) {
  return make_error(sec::invalid_config, option + " " + file + ": " + why);
}

} // namespace

caf::error check_tls_files(const std::string& certificate, const std::string& key,
                           const std::string& cafile, const std::string& passphrase) {
  using ctx_ptr = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;
  std::string pass = passphrase;
  auto make_ctx = [&pass] {
    ctx_ptr ctx{SSL_CTX_new(TLS_method()), &SSL_CTX_free};
    if (ctx) {
      SSL_CTX_set_default_passwd_cb(ctx.get(), passphrase_cb);
      SSL_CTX_set_default_passwd_cb_userdata(ctx.get(), &pass);
    }
    return ctx;
  };
  auto key_only = make_ctx();
  auto ctx = make_ctx();
  if (!ctx || !key_only)
    return make_error(sec::invalid_config, "TLS: " + last_ssl_error());
  ERR_clear_error();
  // The key alone first: with a certificate loaded, OpenSSL reports a key of
  // another pair as unreadable.
  if (SSL_CTX_use_PrivateKey_file(key_only.get(), key.c_str(), SSL_FILETYPE_PEM) != 1)
    return bad("openssl.key", key,
               std::string{"not a readable PEM private key"}
                 + (pass.empty() ? " (an encrypted key needs openssl.passphrase)" : "") + " ("
                 + last_ssl_error() + ")");
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), certificate.c_str()) != 1)
    return bad("openssl.certificate", certificate,
               "not a readable PEM certificate (" + last_ssl_error() + ")");
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), key.c_str(), SSL_FILETYPE_PEM) != 1
      || SSL_CTX_check_private_key(ctx.get()) != 1) {
    ERR_clear_error();
    return bad("openssl.key", key, "does not belong to the certificate " + certificate);
  }
  if (SSL_CTX_load_verify_locations(ctx.get(), cafile.c_str(), nullptr) != 1)
    return bad("openssl.cafile", cafile,
               "not a readable PEM CA certificate (" + last_ssl_error() + ")");
  return caf::none;
}

} // namespace rill
