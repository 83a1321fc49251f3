#include <rill/runtime/dashboard_assets.hpp>

// The files are included as bytes by the assembler (.incbin): no generated
// source, no copy of Chart.js in the tree. The symbols are hidden, so they do
// not become part of librill's ABI. RILL_DASHBOARD_HTML and RILL_CHART_JS are
// the files' paths, set by runtime/CMakeLists.txt.
#define RILL_EMBED(name, path)                                                                     \
  ".section .rodata\n.balign 16\n.hidden " name "_begin\n.hidden " name "_end\n" name              \
  "_begin:\n.incbin \"" path "\"\n" name "_end:\n.byte 0\n.previous\n"

asm(RILL_EMBED("rill_dashboard_html", RILL_DASHBOARD_HTML));
asm(RILL_EMBED("rill_chart_js", RILL_CHART_JS));

extern "C" {
extern const char rill_dashboard_html_begin[];
extern const char rill_dashboard_html_end[];
extern const char rill_chart_js_begin[];
extern const char rill_chart_js_end[];
}

namespace rill {

std::string_view dashboard_html() {
  return {rill_dashboard_html_begin,
          static_cast<size_t>(rill_dashboard_html_end - rill_dashboard_html_begin)};
}

std::string_view chart_js() {
  return {rill_chart_js_begin, static_cast<size_t>(rill_chart_js_end - rill_chart_js_begin)};
}

} // namespace rill
