#include <rill/runtime/logging.hpp>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace rill {

void setup_logging(const std::string& level) {
  static auto logger = [] {
    auto result = spdlog::stderr_color_mt("rill");
    result->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
    spdlog::set_default_logger(result);
    return result;
  }();
  logger->set_level(spdlog::level::from_str(level));
}

} // namespace rill
