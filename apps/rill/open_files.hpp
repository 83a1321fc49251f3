#pragma once

#include <cstdint>

namespace rill::cli {

/// Raises this process's open-file limit to at least `wanted` if it may (the
/// hard limit; as root, past it) and returns the limit it got: each SSE
/// client or bench connection holds one socket, and the default is 1,024.
uint64_t raise_open_files(uint64_t wanted);

} // namespace rill::cli
