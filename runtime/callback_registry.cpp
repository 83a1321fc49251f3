#include <rill/runtime/callback_registry.hpp>

#include <rill/actors/error.hpp>

#include <algorithm>
#include <stdexcept>

namespace rill {

callback_registry& callback_registry::put(std::string name, callback_list::callback cb) {
  if (name.empty() || name.find_first_of(", \t") != std::string::npos)
    throw std::invalid_argument("callback name '" + name + "': empty or has a comma or blank");
  for (const auto& entry : entries_)
    if (entry.first == name)
      throw std::invalid_argument("callback '" + name + "' registered twice");
  entries_.emplace_back(std::move(name), std::move(cb));
  return *this;
}

caf::expected<std::shared_ptr<callback_list>>
callback_registry::make_list(const std::vector<std::string>& names) const {
  auto list = std::make_shared<callback_list>();
  if (names.empty()) {
    for (const auto& entry : entries_)
      list->append(entry.second);
    return list;
  }
  for (const auto& name : names) {
    auto i = std::find_if(entries_.begin(), entries_.end(),
                          [&](const auto& entry) { return entry.first == name; });
    if (i == entries_.end()) {
      std::string known;
      for (const auto& entry : entries_)
        known += (known.empty() ? "" : ", ") + entry.first;
      return make_error(sec::invalid_config, "no callback named '" + name + "' (registered: "
                                               + (known.empty() ? "none" : known) + ")");
    }
    list->append(i->second);
  }
  return list;
}

std::vector<std::string> callback_registry::names() const {
  std::vector<std::string> out;
  for (const auto& entry : entries_)
    out.push_back(entry.first);
  return out;
}

} // namespace rill
