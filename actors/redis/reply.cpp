#include <rill/actors/redis/reply.hpp>

namespace rill {

redis_reply redis_reply::string(std::string value) {
  redis_reply r;
  r.type = kind::string;
  r.str = std::move(value);
  return r;
}

redis_reply redis_reply::status(std::string value) {
  redis_reply r;
  r.type = kind::status;
  r.str = std::move(value);
  return r;
}

redis_reply redis_reply::error(std::string value) {
  redis_reply r;
  r.type = kind::error;
  r.str = std::move(value);
  return r;
}

redis_reply redis_reply::number(int64_t value) {
  redis_reply r;
  r.type = kind::integer;
  r.integer = value;
  return r;
}

redis_reply redis_reply::array(std::vector<redis_reply> elements) {
  redis_reply r;
  r.type = kind::array;
  r.elements = std::move(elements);
  return r;
}

bool operator==(const redis_reply& x, const redis_reply& y) {
  return x.type == y.type && x.integer == y.integer && x.str == y.str && x.elements == y.elements;
}

namespace {

void render(const redis_reply& x, std::string& out) {
  constexpr size_t max_len = 64;
  switch (x.type) {
    case redis_reply::kind::nil:
      out += "nil";
      break;
    case redis_reply::kind::integer:
      out += std::to_string(x.integer);
      break;
    case redis_reply::kind::status:
      out += '+';
      [[fallthrough]];
    case redis_reply::kind::error:
      if (x.type == redis_reply::kind::error)
        out += '-';
      out += x.str;
      break;
    case redis_reply::kind::string:
      out += '"';
      out.append(x.str, 0, std::min(x.str.size(), max_len));
      if (x.str.size() > max_len)
        out += "...(" + std::to_string(x.str.size()) + " bytes)";
      out += '"';
      break;
    case redis_reply::kind::array:
      out += '[';
      for (size_t i = 0; i < x.elements.size(); ++i) {
        if (i > 0)
          out += ", ";
        if (i == 8) {
          out += "...(" + std::to_string(x.elements.size()) + " elements)";
          break;
        }
        render(x.elements[i], out);
      }
      out += ']';
      break;
  }
}

} // namespace

std::string to_string(const redis_reply& x) {
  std::string out;
  render(x, out);
  return out;
}

} // namespace rill
