#include "cli_config.hpp"

#include <caf/config_option.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

namespace rill::cli {

namespace {

/// What each command reads: its short flags and whole option groups. CAF's
/// own `--help` prints every short flag of every command and none of the
/// groups; this lists exactly one command's.
struct command_options {
  std::set<std::string> flags;
  std::vector<std::string> groups;
};

const std::map<std::string, command_options>& table() {
  static const std::map<std::string, command_options> t{
    {"produce",
     {{"redis", "stream", "count", "payload-bytes", "rate", "keys"}, {"redis", "producer", "log"}}},
    {"consume",
     {{"redis", "stream", "group", "consumer", "max-in-flight", "count", "record", "fail-percent",
       "work-us", "measure-latency", "scheduler-threads", "effect-counter", "forward-to",
       "effects-pipelined"},
      {"redis", "consumer", "http", "metrics", "log"}}},
    {"node",
     {{"redis", "stream", "group", "consumer", "max-in-flight", "count", "listen", "join", "plain",
       "remote-workers-only", "scheduler-threads", "record", "fail-percent", "work-us",
       "measure-latency", "effect-counter", "forward-to"},
      {"redis", "consumer", "node", "http", "metrics", "openssl", "log"}}},
    {"gateway", {{"redis", "scheduler-threads"}, {"redis", "http", "gateway", "log"}}},
    {"demo", {{"count", "rate", "max-in-flight", "payload-bytes"}, {"log"}}},
    {"bench",
     {{"redis", "count", "max-in-flight", "payload-bytes", "rate", "rounds", "seconds", "streams",
       "work-us", "scheduler-threads", "clients", "keys", "effect-counter", "forward-to"},
      {"consumer", "http", "metrics", "log"}}},
    {"dead-letters", {{"redis", "stream", "group", "count", "ids", "all"}, {"redis", "log"}}},
    {"status", {{"redis", "stream", "group", "json", "watch"}, {"redis", "log"}}},
  };
  return t;
}

std::string str(caf::string_view x) {
  return std::string(x.data(), x.size());
}

std::string line_for(const caf::config_option& opt, bool in_group) {
  std::string name = "--";
  if (in_group)
    name += str(opt.category()) + ".";
  name += str(opt.long_name());
  if (!opt.is_flag())
    name += "=<" + str(opt.type_name()) + ">";
  std::ostringstream out;
  out << "  " << name;
  auto width = name.size() + 2;
  out << std::string(width < 40 ? 40 - width : 1, ' ') << opt.description() << "\n";
  return out.str();
}

} // namespace

std::string cli_config::help_for(const std::string& command, const std::string& title) const {
  auto found = table().find(command);
  if (found == table().end())
    return {};
  const auto& wanted = found->second;
  std::ostringstream out;
  out << "usage: " << title << " [options]\n\noptions:\n";
  for (const auto& opt : custom_options_)
    if (str(opt.category()) == "global" && wanted.flags.count(str(opt.long_name())) > 0)
      out << line_for(opt, false);
  out << "  --config-file=<path>                  config file (INI; --config FILE too)\n";
  for (const auto& group : wanted.groups) {
    std::string lines;
    for (const auto& opt : custom_options_)
      if (str(opt.category()) == group)
        lines += line_for(opt, true);
    if (!lines.empty())
      out << "\n" << group << ".* (flags or the config file's " << group << " section):\n" << lines;
  }
  if (std::find(wanted.groups.begin(), wanted.groups.end(), "redis") != wanted.groups.end())
    out << "\nThe Redis password also comes from RILL_REDIS_PASSWORD (user: RILL_REDIS_USER);\n"
           "a flag wins.\n";
  return out.str();
}

} // namespace rill::cli
