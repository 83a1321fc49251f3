// A pipeline stage with exactly-once effects (docs/exactly-once.md): every
// entry of the stream "orders" is validated and normalised; a valid order is
// forwarded to "orders:valid" and added to its customer's running total in
// the hash "orders:totals" - both staged, and applied by rill together with
// the entry's XACK in one atomic step. A consumer killed at any moment, or
// one that lost its entries to another consumer while paused, never forwards
// or counts an order twice; an invalid order goes to "orders:dead".
//
//   order_pipeline --redis 127.0.0.1:6379 [--stream orders] [--count N]
//
// In Redis Cluster, name the stream with a hash tag (--stream {orders}): the
// derived keys "{orders}:valid" and "{orders}:totals" then share its slot, as
// one script needs. It runs until SIGINT/SIGTERM, or until it has read N
// entries. `bash scripts/pipeline-demo` runs it against a private Redis.

#include <rill/rill.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string>

namespace {

/// "12.50" -> 1250 (cents); nothing for anything else.
bool cents_of(const std::string& text, int64_t& cents) {
  auto dot = text.find('.');
  auto whole = text.substr(0, dot);
  auto frac = dot == std::string::npos ? std::string{"00"} : text.substr(dot + 1);
  auto digits = [](const std::string& s) {
    return !s.empty() && s.size() <= 12
           && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
  };
  if (!digits(whole) || !digits(frac) || frac.size() != 2)
    return false;
  cents = std::stoll(whole) * 100 + std::stoll(frac);
  return true;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

} // namespace

int main(int argc, char** argv) {
  rill::config cfg; // --redis HOST:PORT, --stream, --count, redis.*, consumer.*
  if (auto err = cfg.load({argv + 1, argv + argc})) {
    std::fprintf(stderr, "order_pipeline: %s\n", rill::describe(err).c_str());
    return 2;
  }
  if (cfg.help_printed())
    return 0;
  auto opts = cfg.consumer;
  opts.stream = opts.stream.empty() ? "orders" : opts.stream;
  opts.group = opts.group.empty() ? "pipeline" : opts.group;
  opts.limit = cfg.count;
  const auto valid = opts.stream + ":valid";
  const auto totals = opts.stream + ":totals";
  try {
    rill::runtime rt{cfg};
    auto& orders = rt.add_consumer(opts);
    // Validate and transform; stage the forward and the total. Nothing is
    // written if the callback fails, and nothing until it succeeded.
    orders.add([&](const rill::stream_entry& e, rill::effects& fx) -> caf::error {
      auto customer = e.find("customer");
      auto amount = e.find("amount");
      int64_t cents = 0;
      if (!customer || customer->empty() || !amount || !cents_of(*amount, cents))
        return rill::fail_permanently("an order needs a customer and an amount like 12.50");
      auto who = lower(*customer);
      fx.xadd(valid, {"customer", who, "cents", std::to_string(cents), "src", e.id});
      fx.hincrby(totals, who, cents);
      return caf::none;
    });
    rt.start();
    return rt.run();
  } catch (const std::invalid_argument& e) { // e.g. keys in another cluster slot
    std::fprintf(stderr, "order_pipeline: %s\n", e.what());
    return 2;
  }
}
