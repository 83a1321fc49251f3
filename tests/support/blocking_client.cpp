#include <rill/testing/blocking_client.hpp>

#include <rill/actors/error.hpp>

#include <hiredis/hiredis.h>

namespace rill {

namespace {

redis_reply convert(const redisReply* r) {
  redis_reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out = redis_reply::string({r->str, r->len});
      break;
    case REDIS_REPLY_STATUS:
      out = redis_reply::status({r->str, r->len});
      break;
    case REDIS_REPLY_ERROR:
      out = redis_reply::error({r->str, r->len});
      break;
    case REDIS_REPLY_INTEGER:
      out = redis_reply::number(r->integer);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = redis_reply::kind::array;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i)
        out.elements.emplace_back(convert(r->element[i]));
      break;
    default:
      break; // nil
  }
  return out;
}

caf::error io_error(redisContext* ctx) {
  return make_error(ctx->err == REDIS_ERR_EOF ? sec::connection_lost : sec::redis_unavailable,
                    ctx->errstr);
}

} // namespace

void blocking_client::deleter::operator()(redisContext* ctx) const noexcept {
  redisFree(ctx);
}

caf::expected<blocking_client> blocking_client::connect(const std::string& host, uint16_t port,
                                                        caf::timespan timeout) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
  timeval tv{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
  auto* ctx = redisConnectWithTimeout(host.c_str(), port, tv);
  if (ctx == nullptr)
    return make_error(sec::connect_failed, "out of memory");
  if (ctx->err != 0) {
    auto err = make_error(sec::connect_failed,
                          "redis " + host + ":" + std::to_string(port) + ": " + ctx->errstr);
    redisFree(ctx);
    return err;
  }
  redisSetTimeout(ctx, tv);
  return blocking_client{ctx};
}

void blocking_client::append(const std::vector<std::string>& argv) {
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  redisAppendCommandArgv(ctx_.get(), static_cast<int>(argv.size()), ptrs.data(), lens.data());
}

caf::expected<redis_reply> blocking_client::read_reply() {
  void* raw = nullptr;
  if (redisGetReply(ctx_.get(), &raw) != REDIS_OK || raw == nullptr)
    return io_error(ctx_.get());
  auto* r = static_cast<redisReply*>(raw);
  auto out = convert(r);
  freeReplyObject(r);
  if (out.is_error())
    return error_from_reply(out.str);
  return out;
}

caf::expected<redis_reply> blocking_client::command(const std::vector<std::string>& argv) {
  append(argv);
  return read_reply();
}

} // namespace rill
