#include <rill/actors/redis/command.hpp>

#include <hiredis/hiredis.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace rill {

redis_command make_command(std::initializer_list<std::string_view> args) {
  redis_command cmd;
  cmd.argv.reserve(args.size());
  for (auto arg : args)
    cmd.argv.emplace_back(arg);
  return cmd;
}

void encode(const redis_command& cmd, std::vector<char>& buf) {
  // Scratch arrays reused across calls on the same thread: a batched XACK has
  // hundreds of arguments and this runs once per command.
  thread_local std::vector<const char*> ptrs;
  thread_local std::vector<size_t> lens;
  ptrs.clear();
  lens.clear();
  for (const auto& a : cmd.argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  char* out = nullptr;
  int len = redisFormatCommandArgv(&out, static_cast<int>(ptrs.size()), ptrs.data(), lens.data());
  if (len < 0 || out == nullptr)
    throw std::bad_alloc();
  buf.insert(buf.end(), out, out + len);
  redisFreeCommand(out);
}

std::string describe(const redis_command& cmd) {
  if (cmd.argv.empty())
    return "<empty command>";
  std::string name = cmd.argv[0];
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  std::string out = name;
  bool secret = name == "AUTH" || name == "HELLO" || name == "MIGRATE";
  constexpr size_t max_args = 6;
  for (size_t i = 1; i < cmd.argv.size() && i <= max_args; ++i) {
    out += ' ';
    out += secret ? std::string{"<redacted>"} : cmd.argv[i].substr(0, 64);
  }
  if (cmd.argv.size() > max_args + 1)
    out += " ...(" + std::to_string(cmd.argv.size() - 1) + " args)";
  return out;
}

} // namespace rill
