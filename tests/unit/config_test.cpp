#define CAF_SUITE config
#include <rill/runtime/config.hpp>

#include "seq_checksum.hpp"
#include <rill/actors/backoff.hpp>
#include <rill/actors/error.hpp>
#include <rill/actors/stream_entry.hpp>
#include <rill/runtime/scheduler.hpp>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/test/unit_test.hpp>

#include <cstdio>
#include <fstream>
#include <type_traits>
#include <typeinfo>
#include <unistd.h>

using namespace rill;

CAF_TEST(flags take name equals value and name space value) {
  config cfg;
  auto err
    = cfg.load({"--redis", "10.1.2.3:7000", "--stream", "orders", "--group=billing", "--count", "5",
                "--max-in-flight", "32", "--redis.db=3", "--consumer.block=250ms"});
  CAF_REQUIRE(!err);
  CAF_CHECK_EQUAL(cfg.redis.host, "10.1.2.3");
  CAF_CHECK_EQUAL(cfg.redis.port, 7000u);
  CAF_CHECK_EQUAL(cfg.consumer.stream, "orders");
  CAF_CHECK_EQUAL(cfg.consumer.group, "billing");
  CAF_CHECK_EQUAL(cfg.count, 5u);
  CAF_CHECK_EQUAL(cfg.consumer.max_in_flight, 32u);
  CAF_CHECK_EQUAL(cfg.redis.db, 3);
  CAF_CHECK(cfg.consumer.block == std::chrono::milliseconds{250});
}

CAF_TEST(what a config parses is a plain copy of settings) {
  static_assert(std::is_copy_constructible_v<settings>);
  settings copy;
  {
    config cfg;
    CAF_REQUIRE(!cfg.load({"--redis", "10.1.2.3:7000", "--stream", "orders",
                           "--producer.maxlen=100", "--log.level=warn"}));
    copy = cfg; // the settings part, as the runtime keeps it
  }             // the config is gone; the copy stands alone
  CAF_CHECK_EQUAL(copy.redis.host, "10.1.2.3");
  CAF_CHECK_EQUAL(copy.redis.port, 7000u);
  CAF_CHECK_EQUAL(copy.consumer.stream, "orders");
  CAF_CHECK_EQUAL(copy.producer.maxlen, 100u);
  CAF_CHECK_EQUAL(copy.log_level, "warn");
}

CAF_TEST(unknown flags and bad values are one clear error) {
  for (auto args : std::vector<std::vector<std::string>>{{"--bogus=1"},
                                                         {"--count", "many"},
                                                         {"--redis", "nocolon"},
                                                         {"--redis", "h:99999"},
                                                         {"--redis.port=0"},
                                                         {"--log.level=loud"},
                                                         {"--redis.user=bob"},
                                                         {"stray"}}) {
    config cfg;
    auto err = cfg.load(args);
    CAF_CHECK_EQUAL(code_of(err), sec::invalid_config);
    CAF_CHECK_EQUAL(describe(err).find('\n'), std::string::npos);
  }
}

CAF_TEST(unknown keys in the config file are rejected) {
  auto path = std::string{"/tmp/rill-config-test-"} + std::to_string(::getpid()) + ".ini";
  {
    std::ofstream out(path);
    out << "[redis]\nhost=\"10.0.0.9\"\nprot=1234\n";
  }
  config cfg;
  auto err = cfg.load(std::vector<std::string>{"--config-file", path});
  CAF_CHECK_EQUAL(code_of(err), sec::invalid_config);
  CAF_CHECK_NOT_EQUAL(describe(err).find("redis.prot"), std::string::npos);
  {
    std::ofstream out(path);
    out << "[redis]\nhost=\"10.0.0.9\"\nport=1234\n[consumer]\nmax-in-flight=7\n";
  }
  config good;
  CAF_CHECK(!good.load(std::vector<std::string>{"--config-file=" + path}));
  CAF_CHECK_EQUAL(good.redis.host, "10.0.0.9");
  CAF_CHECK_EQUAL(good.redis.port, 1234u);
  CAF_CHECK_EQUAL(good.consumer.max_in_flight, 7u);
  std::remove(path.c_str());
}

CAF_TEST(a config file in section block form is applied and flags still win) {
  auto path = std::string{"/tmp/rill-config-test-blocks-"} + std::to_string(::getpid()) + ".ini";
  {
    std::ofstream out(path);
    out << "redis {\n  host = \"10.0.0.9\"\n  port = 1234\n}\n"
        << "consumer {\n  ack-linger = 50us\n  max-in-flight = 7\n}\n"
        << "node {\n  readers = [\"stream=a group=g\"]\n}\n";
  }
  config cfg;
  CAF_REQUIRE(!cfg.load(std::vector<std::string>{"--config", path, "--max-in-flight", "9"}));
  CAF_CHECK_EQUAL(cfg.redis.host, "10.0.0.9");
  CAF_CHECK_EQUAL(cfg.redis.port, 1234u);
  CAF_CHECK(cfg.consumer.ack_linger == std::chrono::microseconds{50});
  CAF_CHECK_EQUAL(cfg.consumer.max_in_flight, 9u); // the flag, not the file's 7
  CAF_CHECK_EQUAL(cfg.node_readers, std::vector<std::string>{"stream=a group=g"});
  std::remove(path.c_str());
}

CAF_TEST(no config file is read unless one is asked for) {
  // CAF's default is caf-application.ini in the working directory: a stray
  // one must not reconfigure an app.
  char tmpl[] = "/tmp/rill-config-test-cwd-XXXXXX";
  CAF_REQUIRE(::mkdtemp(tmpl) != nullptr);
  std::string dir = tmpl;
  {
    std::ofstream out(dir + "/caf-application.ini");
    out << "redis {\n  host = \"10.9.9.9\"\n}\n";
  }
  char old[4096];
  CAF_REQUIRE(::getcwd(old, sizeof(old)) != nullptr);
  CAF_REQUIRE_EQUAL(::chdir(dir.c_str()), 0);
  config plain;
  auto err = plain.load({});
  config asked;
  auto err_asked = asked.load({"--config", "caf-application.ini"});
  CAF_REQUIRE_EQUAL(::chdir(old), 0);
  std::remove((dir + "/caf-application.ini").c_str());
  ::rmdir(dir.c_str());
  CAF_CHECK(!err);
  CAF_CHECK_EQUAL(plain.redis.host, "127.0.0.1");
  CAF_CHECK(!err_asked);
  CAF_CHECK_EQUAL(asked.redis.host, "10.9.9.9");
}

CAF_TEST(a config file that cannot be read fully is one clear error) {
  auto path = std::string{"/tmp/rill-config-test-bad-"} + std::to_string(::getpid()) + ".ini";
  for (auto text : {"consumer {\n  nonsense = 5\n}\n", "[redis]\nport = 1\nfoo {\n",
                    "redis {\n  port = \"many\"\n}\n"}) {
    {
      std::ofstream out(path);
      out << text;
    }
    config cfg;
    auto err = cfg.load(std::vector<std::string>{"--config", path});
    CAF_CHECK_EQUAL(code_of(err), sec::invalid_config);
    CAF_CHECK_NOT_EQUAL(describe(err).find("config file " + path), std::string::npos);
    CAF_CHECK_EQUAL(describe(err).find('\n'), std::string::npos);
  }
  std::remove(path.c_str());
}

CAF_TEST(consumer options are validated) {
  consumer_options opts;
  CAF_CHECK_EQUAL(code_of(validate(opts)), sec::invalid_config); // no stream
  opts.stream = "s";
  opts.group = "g";
  CAF_CHECK(!validate(opts));
  opts.max_in_flight = 0;
  CAF_CHECK_EQUAL(code_of(validate(opts)), sec::invalid_config);
  opts.max_in_flight = 1;
  opts.ack_linger = std::chrono::seconds{2};
  auto err = validate(opts);
  CAF_CHECK_EQUAL(code_of(err), sec::invalid_config);
  CAF_CHECK(describe(err).find("ack-linger") != std::string::npos);
  opts.ack_linger = std::chrono::milliseconds{1};
  opts.order_by = "key";
  opts.order_key = [](const stream_entry&) {
    return std::optional<std::string>{"k"};
  };
  err = validate(opts);
  CAF_CHECK(describe(err).find("set one of them") != std::string::npos);
  opts.order_by.clear();
  CAF_CHECK(!validate(opts));
}

CAF_TEST(the seq checksum detects a loss hidden by a duplicate) {
  auto full = expected_checksum(4);
  CAF_CHECK_EQUAL(full, seq_hash(0) + seq_hash(1) + seq_hash(2) + seq_hash(3));
  CAF_CHECK_NOT_EQUAL(full, seq_hash(0) + seq_hash(1) + seq_hash(1) + seq_hash(3));
  CAF_CHECK_EQUAL(parse_seq("123").value_or(0), 123u);
  CAF_CHECK(!parse_seq("12x"));
  CAF_CHECK(!parse_seq(""));
}

CAF_TEST(every redis URL form parses to its parts) {
  auto url = [](const std::string& text) {
    auto parsed = rill::parse_redis_url(text);
    CAF_REQUIRE(parsed);
    return *parsed;
  };
  auto plain = url("redis://10.0.0.5");
  CAF_CHECK_EQUAL(plain.host, "10.0.0.5");
  CAF_CHECK_EQUAL(plain.port, 6379);
  CAF_CHECK_EQUAL(plain.db, 0);
  CAF_CHECK(!plain.tls);
  CAF_CHECK(!plain.password);
  auto full = url("rediss://alice:p%40ss%3Aword@cache.example.com:6380/7");
  CAF_CHECK_EQUAL(full.host, "cache.example.com");
  CAF_CHECK_EQUAL(full.port, 6380);
  CAF_CHECK_EQUAL(full.user, "alice");
  CAF_CHECK_EQUAL(*full.password, "p@ss:word");
  CAF_CHECK_EQUAL(full.db, 7);
  CAF_CHECK(full.tls);
  auto password_only = url("redis://:secret@h:1/");
  CAF_CHECK_EQUAL(password_only.user, "");
  CAF_CHECK_EQUAL(*password_only.password, "secret");
  auto v6 = url("redis://[::1]:7000/2");
  CAF_CHECK_EQUAL(v6.host, "::1");
  CAF_CHECK_EQUAL(v6.port, 7000);
  auto v6_default_port = url("redis://[::1]");
  CAF_CHECK_EQUAL(v6_default_port.host, "::1");
  CAF_CHECK_EQUAL(v6_default_port.port, 6379);
  for (const char* bad : {"http://h", "redis://", "redis://h:0", "redis://h:99999", "redis://h/x",
                          "redis://h?db=1", "redis://u:%zz@h", "redis://:pw@"}) {
    auto parsed = rill::parse_redis_url(bad);
    CAF_CHECK(!parsed);
    if (!parsed)
      CAF_CHECK_EQUAL(rill::describe(parsed.error()).find("pw@"), std::string::npos);
  }
  CAF_CHECK_EQUAL(rill::redacted_url("redis://u:secret@h:1/0"), "redis://u:<redacted>@h:1/0");
  CAF_CHECK_EQUAL(rill::redacted_url("redis://h:1"), "redis://h:1");
}

CAF_TEST(a URL in-- redis sets host port database and TLS) {
  rill::config cfg;
  CAF_REQUIRE(!cfg.load({"--redis=rediss://u:pw@127.0.0.1:6390/3", "--redis.tls-insecure"}));
  CAF_CHECK_EQUAL(cfg.redis.host, "127.0.0.1");
  CAF_CHECK_EQUAL(cfg.redis.port, 6390);
  CAF_CHECK_EQUAL(cfg.redis.db, 3);
  CAF_CHECK(cfg.redis.tls);
  CAF_CHECK_EQUAL(cfg.redis.user, "u");
  CAF_CHECK_EQUAL(cfg.redis.password, "pw");
  rill::config explicit_password;
  CAF_REQUIRE(!explicit_password.load({"--redis=redis://:pw@h:1", "--redis.password=flag"}));
  CAF_CHECK_EQUAL(explicit_password.redis.password, "flag"); // the explicit flag wins
  auto dump = caf::to_string(cfg.dump_content());
  CAF_CHECK_EQUAL(dump.find("pw@"), std::string::npos);
}
