#pragma once

#include <string>

namespace rill {

/// Configures spdlog's default logger: stderr, one line per event, at `level`
/// (trace, debug, info, warn, error, critical, off). rill logs nothing per
/// message at info level and never logs passwords or AUTH arguments.
void setup_logging(const std::string& level);

} // namespace rill
