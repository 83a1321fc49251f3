// The address forms of the config: `--redis` (one address or cluster seeds)
// and `http.listen`.
#include <rill/runtime/config.hpp>

#include <rill/actors/error.hpp>

#include <cstdlib>

namespace rill {

caf::error parse_listen(const std::string& listen, std::string& host, uint16_t& port) {
  auto spec = listen.find(':') == std::string::npos ? "127.0.0.1:" + listen : listen;
  // Port 0 binds a free port (the log line names it).
  if (spec.size() > 2 && spec.compare(spec.size() - 2, 2, ":0") == 0
      && spec.find_first_of("0123456789", spec.size() - 2) == spec.size() - 1) {
    if (auto err = parse_address(spec.substr(0, spec.size() - 1) + "1", host, port); !err) {
      port = 0;
      return caf::none;
    }
  }
  if (auto err = parse_address(spec, host, port))
    return make_error(sec::invalid_config,
                      "http.listen: expected HOST:PORT or PORT, got '" + listen + "'");
  return caf::none;
}

caf::error parse_seeds(const std::string& addresses, redis_options& redis) {
  std::vector<redis_endpoint> all;
  size_t from = 0;
  for (;;) {
    auto comma = addresses.find(',', from);
    redis_endpoint ep;
    if (auto err = parse_address(addresses.substr(from, comma - from), ep.host, ep.port))
      return err;
    all.push_back(std::move(ep));
    if (comma == std::string::npos)
      break;
    from = comma + 1;
  }
  redis.host = all.front().host;
  redis.port = all.front().port;
  redis.seeds.assign(all.begin() + 1, all.end());
  return caf::none;
}

caf::error parse_address(const std::string& address, std::string& host, uint16_t& port) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size())
    return make_error(sec::invalid_config, "--redis: expected HOST:PORT, got '" + address + "'");
  auto h = address.substr(0, colon);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']')
    h = h.substr(1, h.size() - 2);
  auto p = address.substr(colon + 1);
  // Digits only: strtoul alone takes "+6520" and wraps "-1".
  if (p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos)
    return make_error(sec::invalid_config, "--redis: bad port '" + p + "'");
  auto value = std::strtoul(p.c_str(), nullptr, 10);
  if (value == 0 || value > 65535)
    return make_error(sec::invalid_config, "--redis: bad port '" + p + "'");
  host = std::move(h);
  port = static_cast<uint16_t>(value);
  return caf::none;
}

} // namespace rill
