#include <rill/actors/redis/reply_reader.hpp>

#include <rill/actors/error.hpp>

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

namespace rill {

namespace {

// The object functions place each child directly into the element slot its
// parent array reserved (arrays are sized once in create_array, so pointers
// into them stay valid), so a whole reply is one heap-allocated root.
redis_reply* slot_for(const redisReadTask* task) {
  if (task->parent == nullptr)
    return new redis_reply;
  auto* parent = static_cast<redis_reply*>(task->parent->obj);
  return &parent->elements[static_cast<size_t>(task->idx)];
}

void* create_string(const redisReadTask* task, char* str, size_t len) {
  auto* r = slot_for(task);
  switch (task->type) {
    case REDIS_REPLY_ERROR:
      r->type = redis_reply::kind::error;
      break;
    case REDIS_REPLY_STATUS:
      r->type = redis_reply::kind::status;
      break;
    default:
      r->type = redis_reply::kind::string;
      break;
  }
  r->str.assign(str, len);
  return r;
}

void* create_array(const redisReadTask* task, int elements) {
  auto* r = slot_for(task);
  r->type = redis_reply::kind::array;
  r->elements.resize(static_cast<size_t>(elements));
  return r;
}

void* create_integer(const redisReadTask* task, long long value) {
  auto* r = slot_for(task);
  r->type = redis_reply::kind::integer;
  r->integer = value;
  return r;
}

void* create_nil(const redisReadTask* task) {
  auto* r = slot_for(task);
  r->type = redis_reply::kind::nil;
  return r;
}

// hiredis only ever frees the root object.
void free_object(void* obj) {
  delete static_cast<redis_reply*>(obj);
}

redisReplyObjectFunctions object_functions = {
  create_string, create_array, create_integer, create_nil, free_object,
};

} // namespace

reply_reader::reply_reader() : impl_(redisReaderCreateWithFunctions(&object_functions)) {
  if (impl_ == nullptr)
    throw std::bad_alloc();
}

reply_reader::~reply_reader() {
  redisReaderFree(impl_);
}

void reply_reader::feed(const char* data, size_t size) {
  redisReaderFeed(impl_, data, size);
}

caf::expected<bool> reply_reader::next(redis_reply& out) {
  void* obj = nullptr;
  if (redisReaderGetReply(impl_, &obj) != REDIS_OK)
    return make_error(sec::protocol_error, impl_->errstr);
  if (obj == nullptr)
    return false;
  auto* root = static_cast<redis_reply*>(obj);
  out = std::move(*root);
  delete root;
  return true;
}

void reply_reader::reset() {
  redisReaderFree(impl_);
  impl_ = redisReaderCreateWithFunctions(&object_functions);
  if (impl_ == nullptr)
    throw std::bad_alloc();
}

} // namespace rill
