#pragma once

// Internal to the runtime (not installed): the dashboard's static files,
// built into the library (runtime/dashboard/index.html and Debian's
// libjs-chart.js, embedded at build time by runtime/CMakeLists.txt).

#include <string_view>

namespace rill {

std::string_view dashboard_html();
std::string_view chart_js();

} // namespace rill
