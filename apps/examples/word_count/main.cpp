// A word count that emits to another stream: every entry of "lines" (field
// "text") is split into words, and one entry per distinct word of the line -
// {word, count} - is added to "words" in one pipelined batch through the
// runtime's producer. The line is acked only once the batch is in Redis, so a
// crash in between re-counts the line (at-least-once) but never loses it.
//
//   word_count --redis 127.0.0.1:6379 [--count N] [--max-in-flight K]

#include <rill/rill.hpp>

#include <caf/event_based_actor.hpp> // ctx.self->request(...)

#include <cctype>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace {

/// Lower-case words of `text` (letters and digits), with their counts.
std::map<std::string, uint64_t> count_words(const std::string& text) {
  std::map<std::string, uint64_t> counts;
  std::string word;
  for (unsigned char c : text + " ") {
    if (std::isalnum(c)) {
      word += static_cast<char>(std::tolower(c));
    } else if (!word.empty()) {
      ++counts[word];
      word.clear();
    }
  }
  return counts;
}

} // namespace

int main(int argc, char** argv) {
  rill::config cfg;
  if (auto err = cfg.load({argv + 1, argv + argc})) {
    std::fprintf(stderr, "word_count: %s\n", rill::describe(err).c_str());
    return 2;
  }
  if (cfg.help_printed())
    return 0;
  rill::runtime rt{cfg};
  auto opts = cfg.consumer;
  opts.stream = opts.stream.empty() ? "lines" : opts.stream;
  opts.group = opts.group.empty() ? "word-count" : opts.group;
  opts.limit = cfg.count;
  auto& lines = rt.add_consumer(opts);
  lines.add_async([](const rill::stream_entry& e, rill::async_context ctx) {
    auto text = e.find("text");
    if (!text) {
      ctx.done(rill::fail_permanently("a line needs a text field"));
      return;
    }
    std::vector<std::vector<std::string>> batch;
    for (const auto& [word, n] : count_words(*text))
      batch.push_back({"word", word, "count", std::to_string(n)});
    if (batch.empty()) {
      ctx.done(); // nothing to emit
      return;
    }
    ctx.self
      ->request(ctx.producer, std::chrono::seconds{5}, rill::xadd_atom::value, std::string{"words"},
                std::move(batch))
      .then([done = ctx.done](std::vector<std::string>&) { done(); },
            [done = ctx.done](caf::error& err) { done(std::move(err)); });
  });
  rt.start();
  return rt.run();
}
