#pragma once

// Secrets in the configuration (redis.password) are read by rill itself,
// before CAF's parsers see them: CAF echoes a value it cannot parse in its
// error, prints everything with --dump-config, and strips or rejects quotes
// that are part of a password.

#include <optional>
#include <string>
#include <vector>

namespace rill {

/// Removes `--<name>=VALUE` from `args` and returns the last VALUE, byte for
/// byte (no unquoting).
std::optional<std::string> take_flag(std::vector<std::string>& args, const std::string& name);

/// Blanks the `password = ...` line of the redis section (`[redis]` or
/// `redis { ... }`) in a config file's text and returns its value: unquoted
/// if it is one double-quoted string (`\"` and `\\` escapes), else as written
/// up to the end of the line.
std::optional<std::string> take_password_line(std::string& text);

/// The environment variable `name`, if set.
std::optional<std::string> from_env(const char* name);

} // namespace rill
