#include "open_files.hpp"

#include <sys/resource.h>

namespace rill::cli {

uint64_t raise_open_files(uint64_t wanted) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
    return 0;
  if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < wanted) {
    rlimit more{wanted, wanted};
    if (setrlimit(RLIMIT_NOFILE, &more) == 0)
      lim = more;
  }
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
  getrlimit(RLIMIT_NOFILE, &lim);
  return lim.rlim_cur;
}

} // namespace rill::cli
