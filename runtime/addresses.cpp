// The address forms of the config: `--redis` (one address, cluster seeds or a URL)
// and `http.listen`.
#include <rill/runtime/config.hpp>

#include <rill/actors/error.hpp>
#include <rill/runtime/http_credentials.hpp>

#include <cstdlib>
#include <optional>
#include <string_view>

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

std::string redacted_url(const std::string& url) {
  auto scheme = url.find("://");
  auto at = url.rfind('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme)
    return url;
  auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at)
    return url; // a user, no password
  return url.substr(0, colon + 1) + "<redacted>" + url.substr(at);
}

caf::expected<redis_url> parse_redis_url(const std::string& url) {
  auto bad = [&](const std::string& why) {
    return make_error(sec::invalid_config,
                      "--redis: " + why + " in '" + redacted_url(url)
                        + "' (expected redis://[user[:password]@]host[:port][/db] or rediss://)");
  };
  redis_url out;
  std::string_view rest{url};
  if (rest.substr(0, 8) == "redis://") {
    rest.remove_prefix(8);
  } else if (rest.substr(0, 9) == "rediss://") {
    rest.remove_prefix(9);
    out.tls = true;
  } else {
    return bad("unknown scheme");
  }
  if (rest.find_first_of("?#") != std::string_view::npos)
    return bad("no query or fragment allowed");
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    auto db = std::string{rest.substr(slash + 1)};
    if (!db.empty()) {
      if (db.size() > 5 || db.find_first_not_of("0123456789") != std::string::npos)
        return bad("bad database number");
      out.db = std::stoi(db);
    }
  }
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    auto userinfo = authority.substr(0, at);
    authority.remove_prefix(at + 1);
    auto colon = userinfo.find(':');
    auto user = percent_decoded(userinfo.substr(0, colon));
    if (!user)
      return bad("bad %-escape in the user");
    out.user = *user;
    if (colon != std::string_view::npos) {
      auto password = percent_decoded(userinfo.substr(colon + 1));
      if (!password)
        return bad("bad %-escape in the password");
      out.password = std::move(*password);
    }
  }
  if (authority.empty())
    return bad("no host");
  std::string host_port{authority};
  // A port is optional: "host", "[::1]" and "host:6380" are all fine.
  bool has_port
    = !host_port.empty() && host_port.back() != ']'
      && host_port.find(':', host_port.rfind(']') == std::string::npos ? 0 : host_port.rfind(']'))
           != std::string::npos;
  if (!has_port)
    host_port += ":6379";
  if (auto err = parse_address(host_port, out.host, out.port))
    return bad(context_text(err));
  if (out.host.empty())
    return bad("no host");
  return out;
}

caf::error parse_seeds(const std::string& addresses, redis_options& redis) {
  if (addresses.find("://") != std::string::npos) {
    auto url = parse_redis_url(addresses);
    if (!url)
      return url.error();
    redis.host = url->host;
    redis.port = url->port;
    redis.db = url->db;
    redis.tls = redis.tls || url->tls;
    redis.seeds.clear();
    return caf::none;
  }
  std::vector<redis_endpoint> all;
  if (auto err = parse_address_list(addresses, all))
    return err;
  redis.host = all.front().host;
  redis.port = all.front().port;
  redis.seeds.assign(all.begin() + 1, all.end());
  return caf::none;
}

caf::error parse_address_list(const std::string& addresses, std::vector<redis_endpoint>& out) {
  out.clear();
  size_t from = 0;
  for (;;) {
    auto comma = addresses.find(',', from);
    redis_endpoint ep;
    if (auto err = parse_address(addresses.substr(from, comma - from), ep.host, ep.port))
      return err;
    out.push_back(std::move(ep));
    if (comma == std::string::npos)
      return caf::none;
    from = comma + 1;
  }
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
