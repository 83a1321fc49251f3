#define CAF_SUITE node_roles
#include <rill/runtime/node_roles.hpp>

#include <rill/actors/error.hpp>
#include <rill/runtime/callback_registry.hpp>
#include <rill/runtime/config.hpp>

#include <caf/test/unit_test.hpp>

using namespace rill;

namespace {

caf::expected<node_roles> roles_of(std::vector<std::string> args) {
  config cfg;
  if (auto err = cfg.load(std::move(args)))
    return err;
  return parse_node_roles(cfg);
}

} // namespace

CAF_TEST(one process runs readers and local and remote pools from node options) {
  auto roles = roles_of({"--node.listen=7600", "--node.join=10.0.0.5:7600",
                         R"(--node.readers=["stream=a group=g", "stream=b group=h consumer=c1"])",
                         R"(--node.workers=["stream=b group=h workers=8 callbacks=x,y",)"
                         R"( "stream=c group=g", "stream=d group=g join=10.0.0.6:1"])",
                         "--max-in-flight=12"});
  CAF_REQUIRE(roles);
  CAF_CHECK_EQUAL(roles->listen, "7600");
  CAF_REQUIRE_EQUAL(roles->readers.size(), 2u);
  CAF_CHECK_EQUAL(roles->readers[1].consumer, "c1");
  CAF_REQUIRE_EQUAL(roles->pools.size(), 3u);
  // b/h is read here: its pool is local.
  auto local = roles->local_pool(roles->readers[1]);
  CAF_REQUIRE(local != nullptr);
  CAF_CHECK_EQUAL(local->workers, 8u);
  CAF_CHECK_EQUAL(local->callbacks, (std::vector<std::string>{"x", "y"}));
  CAF_CHECK(roles->local_pool(roles->readers[0]) == nullptr);
  // c/g joins node.join with the default worker count; d/g its own node.
  CAF_CHECK_EQUAL(roles->pools[1].join, "10.0.0.5:7600");
  CAF_CHECK_EQUAL(roles->pools[1].workers, 12u);
  CAF_CHECK_EQUAL(roles->pools[2].join, "10.0.0.6:1");
}

CAF_TEST(the one role flags still describe a reader or a pool) {
  auto reader = roles_of({"--listen", "7600", "--stream", "s", "--group", "g"});
  CAF_REQUIRE(reader);
  CAF_CHECK_EQUAL(reader->readers.size(), 1u);
  CAF_REQUIRE_EQUAL(reader->pools.size(), 1u); // local workers
  CAF_CHECK(reader->local_pool(reader->readers[0]) != nullptr);
  auto remote_only
    = roles_of({"--listen", "7600", "--stream", "s", "--group", "g", "--remote-workers-only"});
  CAF_REQUIRE(remote_only);
  CAF_CHECK(remote_only->pools.empty());
  auto pool = roles_of({"--join", "h:1", "--stream", "s", "--group", "g"});
  CAF_REQUIRE(pool);
  CAF_CHECK(pool->readers.empty());
  CAF_CHECK_EQUAL(pool->pools.at(0).join, "h:1");
}

CAF_TEST(roles that do not fit together are one clear error) {
  for (auto args : std::vector<std::vector<std::string>>{
         {R"(--node.workers=["stream=a group=g"])"},                   // no reader node
         {R"(--node.readers=["stream=a group=g"])"},                   // no workers
         {R"(--node.readers=["stream=a"])", "--listen=1"},             // no group
         {R"(--node.readers=["stream=a group=g x=1"])", "--listen=1"}, // unknown key
         {R"(--node.readers=["stream=a group=g", "stream=a group=g"])", "--listen=1"},
         {R"(--node.readers=["stream=a group=g"])",
          R"(--node.workers=["stream=a group=g join=h:1"])"}, // local pool with join
         {R"(--node.workers=["stream=a group=g workers=-1"])", "--join=h:1"},
         {R"(--node.workers=["stream=a group=g callbacks=x,,y"])", "--join=h:1"},
         {R"(--node.workers=["stream=a group=g", "stream=a group=g"])", "--join=h:1"},
         {"--stream=s", "--group=g"}}) { // no role at all
    auto roles = roles_of(args);
    CAF_CHECK(!roles);
    if (!roles) {
      CAF_CHECK_EQUAL(code_of(roles.error()), sec::invalid_config);
      CAF_CHECK_EQUAL(describe(roles.error()).find('\n'), std::string::npos);
    }
  }
}

CAF_TEST(a registry builds callback lists by name in the order named) {
  std::string trace;
  callback_registry reg;
  reg.add("a", [&](const stream_entry&) { trace += "a"; });
  reg.add("b", [&](const stream_entry&) { trace += "b"; });
  reg.add_async("c", [&](const stream_entry&, async_context) { trace += "c"; });
  CAF_CHECK_EQUAL(reg.names(), (std::vector<std::string>{"a", "b", "c"}));
  auto picked = reg.make_list({"b", "a"});
  CAF_REQUIRE(picked);
  CAF_REQUIRE_EQUAL((*picked)->size(), 2u);
  stream_entry e;
  for (size_t i = 0; i < (*picked)->size(); ++i)
    CAF_CHECK(!(**picked)[i].sync(e));
  CAF_CHECK_EQUAL(trace, "ba");
  auto all = reg.make_list({});
  CAF_REQUIRE(all);
  CAF_CHECK_EQUAL((*all)->size(), 3u);
  CAF_CHECK((**all)[2].async != nullptr);
  auto unknown = reg.make_list({"a", "zz"});
  CAF_REQUIRE(!unknown);
  CAF_CHECK_NOT_EQUAL(describe(unknown.error()).find("'zz' (registered: a, b, c)"),
                      std::string::npos);
  bool thrown = false;
  try {
    reg.add("a", [](const stream_entry&) {});
  } catch (const std::invalid_argument&) {
    thrown = true;
  }
  CAF_CHECK(thrown); // a name is registered once
}
