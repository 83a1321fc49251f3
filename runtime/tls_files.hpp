#pragma once

#include <caf/error.hpp>

#include <string>

namespace rill {

/// Loads a certificate chain, its private key (decrypted with `passphrase`
/// if it is encrypted; never prompting on a terminal) and a CA file the way
/// a TLS context will, and checks that key and certificate belong together.
/// The error (`sec::invalid_config`) names the option and the file: a node
/// that starts with a bad file would fail on its first connection instead
/// (CAF 0.17 aborted the process there).
caf::error check_tls_files(const std::string& certificate, const std::string& key,
                           const std::string& cafile, const std::string& passphrase);

} // namespace rill
