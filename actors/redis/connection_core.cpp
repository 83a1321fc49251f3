#include <rill/actors/redis/connection_core.hpp>

#include <rill/actors/error.hpp>

#include <spdlog/spdlog.h>

#include <cstdlib>

namespace rill {

namespace {

/// A reason that waiting will not fix keeps its code (a rejected password, a
/// certificate that does not verify); any other makes the server
/// "unavailable" for the requests it stops.
sec lasting_code(const caf::error& reason) {
  auto code = code_of(reason);
  switch (code) {
    case sec::auth_failed:
    case sec::no_permission:
    case sec::tls_failed:
    case sec::invalid_config:
      return code;
    default:
      return sec::redis_unavailable;
  }
}

} // namespace

connection_core::connection_core(redis_options opts, sink& out) :
  opts_(std::move(opts)), out_(out),
  // With sentinels the address is the master's, once they named it (retarget).
  endpoint_(opts_.sentinels.empty() ? endpoint_text(opts_.host, opts_.port)
                                    : "master '" + opts_.sentinel_master + "'"),
  retry_(opts_.reconnect_min, opts_.reconnect_max) {
  // nop
}

void connection_core::connecting(clock_type::time_point now) {
  phase_ = phase::connecting;
  reader_.reset();
  subscribed_ = false;
  send_handshake(now);
}

void connection_core::retarget(const redis_endpoint& ep) {
  opts_.host = ep.host;
  opts_.port = ep.port;
  endpoint_ = endpoint_text(ep);
}

void connection_core::send_handshake(clock_type::time_point now) {
  auto step = [&](const redis_command& cmd, request::kind what) {
    request req;
    req.what = what;
    encode(cmd, out_buf(req));
    enqueue(std::move(req), cmd.argv.front(), caf::timespan{0}, now);
  };
  // hiredis 0.14 speaks RESP2 only: never HELLO 3.
  if (!opts_.password.empty()) {
    if (opts_.user.empty())
      step(make_command({"AUTH", opts_.password}), request::kind::handshake);
    else
      step(make_command({"AUTH", opts_.user, opts_.password}), request::kind::handshake);
  }
  if (opts_.db != 0)
    step(make_command({"SELECT", std::to_string(opts_.db)}), request::kind::handshake);
  if (!opts_.client_name.empty())
    step(make_command({"CLIENT", "SETNAME", opts_.client_name}), request::kind::handshake);
  step(make_command({"CONFIG", "GET", "proto-max-bulk-len"}), request::kind::probe);
  if (!opts_.sentinels.empty())
    step(make_command({"ROLE"}), request::kind::role);
  // Its reply marks the end of the handshake.
  step(make_command({"CLIENT", "ID"}), request::kind::handshake);
}

caf::error connection_core::refuse(const redis_command& cmd) const {
  for (size_t i = 0; i < cmd.argv.size(); ++i)
    if (cmd.argv[i].size() > max_bulk_)
      return make_error(sec::invalid_argument,
                        "argument " + std::to_string(i + 1) + " of " + cmd.argv.front() + " has "
                          + std::to_string(cmd.argv[i].size())
                          + " bytes, more than the server's proto-max-bulk-len ("
                          + std::to_string(max_bulk_) + "); not sent");
  if (phase_ == phase::down) {
    // A rejected password will not fix itself by waiting: say so, rather
    // than a generic "unavailable".
    auto code = lasting_code(last_error_);
    return make_error(code, "redis " + endpoint_ + " is unavailable"
                              + (last_error_ ? " (" + context_text(last_error_) + ")" : ""));
  }
  if (pending_.size() >= opts_.max_queued)
    return make_error(sec::backpressure, "more than " + std::to_string(opts_.max_queued)
                                           + " requests pending at redis " + endpoint_);
  return caf::none;
}

caf::error connection_core::refuse(const std::vector<redis_command>& cmds) const {
  for (const auto& cmd : cmds)
    if (auto err = refuse(cmd))
      return err;
  return caf::none; // an empty pipeline is answered by the caller, never sent
}

std::vector<char>& connection_core::out_buf(request& req) {
  req.sent = !caller_request(req) || phase_ == phase::ready;
  return req.sent ? out_.wire() : held_;
}

void connection_core::enqueue(request req, const std::string& name, caf::timespan blocks_for,
                              clock_type::time_point now) {
  auto timeout = opts_.request_timeout + blocks_for;
  if (phase_ != phase::ready)
    timeout += opts_.connect_timeout;
  req.deadline = now + timeout;
  req.name = name;
  pending_.emplace_back(std::move(req));
}

void connection_core::submit(const redis_command& cmd, clock_type::time_point now) {
  if (!cmd.argv.empty()
      && (equals_nocase(cmd.argv.front(), "SUBSCRIBE")
          || equals_nocase(cmd.argv.front(), "PSUBSCRIBE")))
    subscribed_ = true;
  request req;
  encode(cmd, out_buf(req));
  enqueue(std::move(req), cmd.argv.empty() ? std::string{} : cmd.argv.front(), cmd.blocks_for, now);
}

void connection_core::submit(const std::vector<redis_command>& cmds, clock_type::time_point now) {
  request req;
  req.what = request::kind::pipeline;
  auto& buf = out_buf(req);
  caf::timespan blocks{0};
  for (const auto& cmd : cmds) {
    encode(cmd, buf);
    blocks += cmd.blocks_for;
  }
  req.remaining = cmds.size();
  req.replies.reserve(cmds.size());
  enqueue(std::move(req), cmds.front().argv.empty() ? std::string{} : cmds.front().argv.front(),
          blocks, now);
}

void connection_core::received(const char* data, size_t size) {
  if (phase_ == phase::down)
    return;
  reader_.feed(data, size);
  redis_reply reply;
  for (;;) {
    auto got = reader_.next(reply);
    if (!got) {
      close(got.error());
      return;
    }
    if (!*got)
      return;
    on_reply(reply);
    if (phase_ == phase::down)
      return;
  }
}

void connection_core::on_reply(redis_reply& reply) {
  if (subscribed_ && reply.is_array() && reply.elements.size() == 3
      && reply.elements[0].str == "message") {
    out_.push(std::move(reply));
    return;
  }
  if (pending_.empty()) {
    close(make_error(sec::protocol_error, "unsolicited reply: " + to_string(reply)));
    return;
  }
  auto& req = pending_.front();
  if (!opts_.sentinels.empty() && closed_for_role(req, reply))
    return;
  switch (req.what) {
    case request::kind::role: // checked above
      break;
    case request::kind::probe:
      // [name, value] when allowed; an error (NOPERM) keeps the default.
      if (reply.is_array() && reply.elements.size() == 2)
        if (auto v = std::strtoull(reply.elements[1].str.c_str(), nullptr, 10); v > 0)
          max_bulk_ = v;
      break;
    case request::kind::handshake: {
      auto taken = std::move(req);
      pending_.pop_front();
      on_handshake_reply(taken, reply);
      return;
    }
    case request::kind::single:
      if (reply.is_error())
        out_.answer(error_from_reply(reply.str));
      else
        out_.answer(std::move(reply));
      break;
    case request::kind::pipeline:
      req.replies.emplace_back(std::move(reply));
      if (--req.remaining > 0)
        return;
      out_.answer(std::move(req.replies));
      break;
  }
  pending_.pop_front();
}

bool connection_core::closed_for_role(const request& req, const redis_reply& reply) {
  std::string what;
  if (req.what == request::kind::role) {
    // An error (an ACL user without ROLE) cannot tell: the address stands.
    if (reply.is_error()
        || (reply.is_array() && !reply.elements.empty() && reply.elements[0].str == "master"))
      return false;
    what
      = "is a "
        + (reply.is_array() && !reply.elements.empty() ? reply.elements[0].str : to_string(reply))
        + ", not a master";
  } else if (caller_request(req) && reply.is_error() && reply.str.rfind("READONLY", 0) == 0) {
    what = "is a replica now (" + reply.str + ")";
  } else {
    return false;
  }
  close(make_error(sec::redis_unavailable,
                   "redis " + endpoint_ + " " + what + "; asking the sentinels again"));
  return true;
}

void connection_core::on_handshake_reply(const request& req, redis_reply& reply) {
  if (reply.is_error()) {
    // e.g. "WRONGPASS invalid username-password pair": Redis never echoes the
    // password, so the text is safe to show.
    auto err = error_from_reply(reply.str);
    close(make_error(code_of(err), "handshake with redis " + endpoint_ + " failed (" + req.name
                                     + "): " + reply.str));
    return;
  }
  if (reply.type != redis_reply::kind::integer)
    return; // AUTH / SELECT / SETNAME: +OK
  // CLIENT ID: the handshake is complete; what waited for it goes out now.
  phase_ = phase::ready;
  if (!held_.empty()) {
    auto& buf = out_.wire();
    buf.insert(buf.end(), held_.begin(), held_.end());
    held_.clear();
  }
  for (auto& p : pending_)
    p.sent = true;
  if (!ever_connected_ || retry_.attempts() > 0)
    spdlog::info("redis {}: connected{}", endpoint_, ever_connected_ ? " again" : "");
  ever_connected_ = true;
  retry_.reset();
  last_error_ = caf::none;
  out_.up(reply.integer);
}

void connection_core::connect_failed(caf::error reason) {
  phase_ = phase::connecting; // a failed attempt goes down like a lost connection
  close(std::move(reason));
}

void connection_core::close(caf::error reason) {
  if (phase_ == phase::down)
    return;
  bool was_ready = phase_ == phase::ready;
  phase_ = phase::down;
  reader_.reset();
  auto sent_err = was_ready
                    ? make_error(sec::connection_lost, "connection to redis " + endpoint_
                                                         + " lost (" + context_text(reason) + ")")
                    : reason;
  auto unsent_err = make_error(lasting_code(reason), "not sent: no connection to redis " + endpoint_
                                                       + " (" + context_text(reason) + ")");
  // Taken out first: an answer's handler may submit again (it is refused:
  // the core is down).
  auto failed = std::move(pending_);
  pending_.clear();
  held_.clear();
  for (auto& p : failed)
    if (caller_request(p))
      out_.answer(p.sent ? sent_err : unsent_err);
  // First failure of a streak is worth a warning; repeats are debug noise.
  if (retry_.attempts() == 0)
    spdlog::warn("redis {}: {}", endpoint_, describe(reason));
  else
    spdlog::debug("redis {}: {}", endpoint_, describe(reason));
  last_error_ = reason;
  out_.down(reason, retry_.next());
}

std::optional<connection_core::clock_type::time_point> connection_core::next_deadline() const {
  if (pending_.empty())
    return std::nullopt;
  return pending_.front().deadline;
}

void connection_core::check_deadline(clock_type::time_point now) {
  if (pending_.empty() || phase_ == phase::down || pending_.front().deadline > now)
    return;
  close(make_error(sec::request_timeout, "no reply to " + pending_.front().name + " from redis "
                                           + endpoint_ + " in time"));
}

void connection_core::fail_all(const caf::error& err) {
  auto failed = std::move(pending_);
  pending_.clear();
  for (auto& p : failed)
    if (caller_request(p))
      out_.answer(err);
}

} // namespace rill
