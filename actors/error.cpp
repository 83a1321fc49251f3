#include <rill/actors/error.hpp>

#include <caf/atom.hpp>
#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace rill {

std::string to_string(sec code) {
  switch (code) {
    case sec::none:
      return "none";
    case sec::redis_unavailable:
      return "redis_unavailable";
    case sec::connect_failed:
      return "connect_failed";
    case sec::connection_lost:
      return "connection_lost";
    case sec::request_timeout:
      return "request_timeout";
    case sec::auth_failed:
      return "auth_failed";
    case sec::reply_error:
      return "reply_error";
    case sec::wrong_type:
      return "wrong_type";
    case sec::no_group:
      return "no_group";
    case sec::no_permission:
      return "no_permission";
    case sec::server_busy:
      return "server_busy";
    case sec::tls_failed:
      return "tls_failed";
    case sec::protocol_error:
      return "protocol_error";
    case sec::unexpected_reply:
      return "unexpected_reply";
    case sec::backpressure:
      return "backpressure";
    case sec::invalid_config:
      return "invalid_config";
    case sec::invalid_argument:
      return "invalid_argument";
    case sec::callback_failed:
      return "callback_failed";
    case sec::permanent_failure:
      return "permanent_failure";
    case sec::callback_timeout:
      return "callback_timeout";
    case sec::stopped:
      return "stopped";
  }
  return "unknown";
}

caf::error make_error(sec code, std::string text) {
  return caf::error{static_cast<uint8_t>(code), caf::atom("rill"),
                    caf::make_message(std::move(text))};
}

caf::error make_error(sec code) {
  return caf::error{static_cast<uint8_t>(code), caf::atom("rill")};
}

caf::error fail_permanently(std::string reason) {
  return make_error(sec::permanent_failure, std::move(reason));
}

sec code_of(const caf::error& err) {
  if (!err || err.category() != caf::atom("rill"))
    return sec::none;
  return static_cast<sec>(err.code());
}

std::string context_text(const caf::error& err) {
  const auto& ctx = err.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  return ctx.empty() ? std::string{} : caf::to_string(ctx);
}

std::string describe(const caf::error& err) {
  if (!err)
    return "no error";
  std::string result;
  if (err.category() == caf::atom("rill")) {
    result = "rill::sec::" + to_string(static_cast<sec>(err.code()));
  } else if (err.category() == caf::atom("system")) {
    result = "caf::sec::" + caf::to_string(static_cast<caf::sec>(err.code()));
  } else {
    result = caf::to_string(err);
    return result;
  }
  if (auto text = context_text(err); !text.empty())
    result += ": " + text;
  return result;
}

caf::error error_from_reply(const std::string& text) {
  auto starts = [&](const char* prefix) {
    return text.rfind(prefix, 0) == 0;
  };
  if (starts("WRONGTYPE"))
    return make_error(sec::wrong_type, text);
  if (starts("NOGROUP"))
    return make_error(sec::no_group, text);
  if (starts("NOPERM"))
    return make_error(sec::no_permission, text);
  if (starts("ERR Protocol error"))
    return make_error(sec::protocol_error, text);
  if (starts("LOADING") || starts("BUSY ") || starts("MASTERDOWN") || starts("TRYAGAIN"))
    return make_error(sec::server_busy, text);
  if (starts("WRONGPASS") || starts("NOAUTH") || starts("ERR AUTH")
      || starts("ERR invalid password"))
    return make_error(sec::auth_failed, text);
  return make_error(sec::reply_error, text);
}

bool is_unreachable(const caf::error& err) {
  switch (code_of(err)) {
    case sec::redis_unavailable:
    case sec::connect_failed:
    case sec::connection_lost:
    case sec::request_timeout:
      return true;
    default:
      return false;
  }
}

bool is_refusal(const caf::error& err) {
  switch (code_of(err)) {
    case sec::auth_failed:
    case sec::reply_error:
    case sec::wrong_type:
    case sec::no_group:
    case sec::no_permission:
      return true;
    default:
      return false;
  }
}

} // namespace rill
