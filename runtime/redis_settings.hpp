#pragma once

// The `redis.*` options of the config (internal to librill: config.cpp uses
// these, apps reach them through `config`).

#include <rill/runtime/settings.hpp>

#include <caf/config_option_set.hpp>
#include <caf/error.hpp>

#include <optional>
#include <string>

namespace rill {

/// Registers the `redis.*` options, bound to `s`.
void add_redis_options(caf::config_option_set& opts, settings& s);

/// `redis.sentinels` into `s.redis.sentinels`, and the sentinels' password:
/// `--redis.sentinel-password` (taken raw: `password_flag`), else
/// RILL_SENTINEL_PASSWORD, else the config file.
caf::error load_sentinels(settings& s, const std::optional<std::string>& password_flag);

} // namespace rill
