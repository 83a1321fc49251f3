#include "apps/rill/seq_callbacks.hpp"

#include "runtime/error.hpp"
#include "runtime/seq_checksum.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace rill::cli {

seq_tally::~seq_tally() {
  if (record_fd >= 0)
    ::close(record_fd);
}

std::string seq_tally::open_record(const std::string& path) {
  record_fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  return record_fd < 0 ? "--record " + path + ": " + std::strerror(errno) : std::string{};
}

void add_seq_callbacks(callback_list& list, const config& cfg, seq_tally& tally) {
  auto fail_percent = cfg.fail_percent;
  list.add([&tally, fail_percent](const stream_entry& e) -> caf::error {
    auto field = e.find("seq");
    if (field == nullptr)
      return fail_permanently("entry has no seq field");
    auto seq = parse_seq(*field);
    if (!seq)
      return fail_permanently("seq is not a number");
    if (*seq % 100 < fail_percent)
      return make_error(sec::invalid_argument, "drill: --fail-percent fails this seq");
    if (tally.record_fd >= 0) {
      // One write(2) per seq before the callback returns: a SIGKILL right
      // after cannot lose the record of a processed entry.
      char line[32];
      auto len = std::snprintf(line, sizeof(line), "%llu\n", static_cast<unsigned long long>(*seq));
      if (::write(tally.record_fd, line, static_cast<size_t>(len)) != len)
        return make_error(sec::callback_failed, std::string{"--record: "} + std::strerror(errno));
    }
    tally.checksum.fetch_add(seq_hash(*seq), std::memory_order_relaxed);
    tally.processed.fetch_add(1, std::memory_order_relaxed);
    return caf::none;
  });
  if (cfg.work_us > 0) {
    auto work = std::chrono::microseconds{cfg.work_us};
    list.add_async([work](const stream_entry&, async_context ctx) { ctx.done.after(work); });
  }
}

} // namespace rill::cli
