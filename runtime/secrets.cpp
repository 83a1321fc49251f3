#include <rill/runtime/secrets.hpp>

#include <cstdlib>

namespace rill {

namespace {

std::string trim(const std::string& x) {
  auto first = x.find_first_not_of(" \t\r");
  if (first == std::string::npos)
    return {};
  auto last = x.find_last_not_of(" \t\r");
  return x.substr(first, last - first + 1);
}

/// `"a\"b"` -> `a"b`; anything else as it is.
std::string unquote(const std::string& x) {
  if (x.size() < 2 || x.front() != '"' || x.back() != '"')
    return x;
  std::string out;
  for (size_t i = 1; i + 1 < x.size(); ++i) {
    if (x[i] == '\\' && i + 2 < x.size() && (x[i + 1] == '"' || x[i + 1] == '\\'))
      ++i;
    out += x[i];
  }
  return out;
}

} // namespace

std::optional<std::string> take_flag(std::vector<std::string>& args, const std::string& name) {
  std::optional<std::string> value;
  auto prefix = "--" + name + "=";
  for (auto i = args.begin(); i != args.end();) {
    if (i->compare(0, prefix.size(), prefix) == 0) {
      value = i->substr(prefix.size());
      i = args.erase(i);
    } else {
      ++i;
    }
  }
  return value;
}

std::optional<std::string> take_password_line(std::string& text) {
  std::optional<std::string> value;
  std::string section;
  bool in_block = false;
  size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string::npos)
      end = text.size();
    auto line = trim(text.substr(pos, end - pos));
    if (line.size() > 2 && line.front() == '[' && line.back() == ']') {
      section = trim(line.substr(1, line.size() - 2));
    } else if (!line.empty() && line.back() == '{') {
      section = trim(line.substr(0, line.size() - 1));
      in_block = true;
    } else if (line == "}" && in_block) {
      section.clear();
      in_block = false;
    } else if (section == "redis" && line.compare(0, 8, "password") == 0) {
      auto eq = line.find('=');
      if (eq != std::string::npos && trim(line.substr(0, eq)) == "password") {
        value = unquote(trim(line.substr(eq + 1)));
        text.replace(pos, end - pos, std::string(end - pos, ' ')); // keep line numbers
      }
    }
    pos = end + 1;
  }
  return value;
}

std::optional<std::string> from_env(const char* name) {
  if (auto value = std::getenv(name))
    return std::string{value};
  return std::nullopt;
}

} // namespace rill
