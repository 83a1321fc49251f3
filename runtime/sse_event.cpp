#include <rill/runtime/sse_event.hpp>

#include <rill/runtime/json_text.hpp>

#include <nlohmann/json.hpp>

namespace rill {

namespace {

using json = nlohmann::ordered_json;

/// Adds one (name, value) to `data`: a second value of a name turns its
/// entry into an array.
void add_field(json& data, const std::string& name, const std::string& value) {
  bool text_ok = valid_utf8(value);
  auto key = valid_utf8(name) ? name : utf8_or_replaced(name);
  if (key != name)
    data[key + "_name_base64"] = base64(name);
  auto put = [&data](const std::string& k, std::string v) {
    auto at = data.find(k);
    if (at == data.end()) {
      data[k] = std::move(v);
    } else {
      if (!at->is_array())
        *at = json::array({std::move(*at)});
      at->push_back(std::move(v));
    }
  };
  put(key, text_ok ? value : utf8_or_replaced(value));
  if (!text_ok)
    put(key + "_base64", base64(value));
}

std::string event_name(const stream_entry& e, const std::string& field) {
  const auto* v = field.empty() ? nullptr : e.find(field);
  if (v == nullptr)
    return "message";
  std::string name;
  name.reserve(v->size());
  for (char c : *v)
    if (c != '\r' && c != '\n')
      name += c;
  if (!valid_utf8(name))
    name = utf8_or_replaced(name);
  return name.empty() ? "message" : name;
}

} // namespace

std::string sse_event(const stream_entry& e, const std::string& event_field) {
  json data = json::object();
  for (size_t i = 0; i + 1 < e.fields.size(); i += 2)
    add_field(data, e.fields[i], e.fields[i + 1]);
  std::string out;
  out.reserve(e.id.size() + 64 + e.fields.size() * 16);
  out += "id: ";
  out += e.id;
  out += "\nevent: ";
  out += event_name(e, event_field);
  out += "\ndata: ";
  out += json_line(data); // JSON escapes CR and LF: one line
  out += "\n\n";
  return out;
}

std::string sse_gap_event(const std::string& after, const std::string& first_available) {
  json data{{"after", after}, {"first_available", first_available}};
  return "event: gap\ndata: " + json_line(data) + "\n\n";
}

bool valid_utf8(const std::string& text) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (static_cast<size_t>(end - p) < len)
      return false;
    for (size_t i = 1; i < len; ++i) {
      if ((p[i] & 0xC0) != 0x80)
        return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF.
    static constexpr uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[len] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
      return false;
    p += len;
  }
  return true;
}

} // namespace rill
