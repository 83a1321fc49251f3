#pragma once

// What one `rill node` process runs, from its config: readers for some
// streams, worker pools for some consumers, or both.
//
//   [node]
//   listen = "0.0.0.0:7600"            # publish this node's readers
//   join = "10.0.0.5:7600"             # default reader node for worker pools
//   readers = ["stream=orders group=billing", "stream=clicks group=stats"]
//   workers = ["stream=clicks group=stats workers=16 callbacks=parse,count",
//              "stream=audit group=archive workers=64 join=10.0.0.6:7600"]
//
// A worker pool for a reader on the same node feeds it locally; any other
// pool joins the reader node at its `join=` (or `node.join`). Without
// `node.readers` / `node.workers`, the flags describe one role:
// `--listen` + `--stream/--group` is a reader (with `--max-in-flight` local
// workers unless `--remote-workers-only`), `--join` + `--stream/--group` a pool.

#include <caf/expected.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace rill {

class config;

/// A reader this node runs (it uses the `[consumer]` options otherwise).
struct reader_role {
  std::string stream;
  std::string group;
  /// Consumer name (empty: `consumer.name`, else "<host>-<pid>").
  std::string consumer;
};

/// A worker pool this node runs: `workers` workers with the named callbacks.
struct pool_role {
  std::string stream;
  std::string group;
  uint32_t workers = 0;
  /// Registered callback names, in the order they run (empty: all).
  std::vector<std::string> callbacks;
  /// Reader node to join; empty when the reader runs on this node.
  std::string join;
};

struct node_roles {
  /// `[HOST:]PORT` to publish this node's readers on (empty: not published).
  std::string listen;
  std::vector<reader_role> readers;
  std::vector<pool_role> pools;

  /// The pool feeding `r` on this node, or null.
  const pool_role* local_pool(const reader_role& r) const;
};

/// Reads the roles from `node.*` (or the one-role flags) and checks that they
/// fit together: every reader gets workers (a local pool or `listen`), every
/// remote pool has a reader node to join, nothing is named twice. The error
/// is one line naming the offending entry.
caf::expected<node_roles> parse_node_roles(const config& cfg);

} // namespace rill
