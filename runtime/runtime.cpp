#include <rill/runtime/runtime.hpp>

#include <rill/actors/error.hpp>
#include <rill/actors/group_probe.hpp>
#include <rill/actors/messages.hpp>
#include <rill/actors/producer.hpp>
#include <rill/actors/reader.hpp>
#include <rill/actors/tailer.hpp>
#include <rill/actors/worker.hpp>
#include <rill/runtime/http_service.hpp>
#include <rill/runtime/redis_topology.hpp>
#include <rill/runtime/scheduler.hpp>
#include <rill/runtime/system_config.hpp>

#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace rill {

void block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

namespace {

std::unique_ptr<caf::actor_system_config> prepared(const config& cfg) {
  if (cfg.take_signals)
    block_stop_signals(); // before the actor system starts its threads
  auto own = copy_for_system(cfg);
  use_rill_scheduler(*own);
  return own;
}

caf::timespan reply_deadline(const redis_options& r) {
  return r.request_timeout + r.connect_timeout;
}

} // namespace

runtime::runtime(const config& cfg) :
  settings_(cfg), system_cfg_(prepared(cfg)), system_(*system_cfg_),
  redis_(std::make_shared<redis_topology>(system_, settings_.redis, settings_.redis_cluster)),
  shared_conn_metrics_(redis_->shared_metrics()), shared_conn_(redis_->shared()) {
  producer_ = spawn_producer(system_, settings_.producer, shared_conn_);
}

runtime::~runtime() {
  http_.reset(); // its thread reads the consumers and connections
  if (started_) {
    stop();
    caf::timespan longest{0};
    for (auto& c : consumers_)
      longest = std::max(longest, c->options().stop_timeout);
    await_consumers(longest + std::chrono::seconds{2});
  }
  tails_.clear(); // each ends its tailer, connection and subscribers
  caf::anon_send_exit(producer_, caf::exit_reason::user_shutdown);
  redis_->stop();
}

caf::actor runtime::spawn_stream_tailer(const std::string& stream, std::string from,
                                        const std::string& name_suffix) {
  tailer_options opts;
  opts.stream = stream;
  opts.from = std::move(from);
  opts.request_timeout = reply_deadline(settings_.redis);
  return spawn_tailer(
    system_, opts,
    [topology = redis_, stream, name_suffix](caf::actor listener) {
      return topology->spawn_own(stream, name_suffix, std::move(listener));
    },
    shared_conn_);
}

std::shared_ptr<const effect_rules> runtime::effect_rules_for(const consumer_options& opts) const {
  return redis_->effect_rules_for(opts.stream, opts.effect_keys);
}

rill::tail& runtime::tail(const std::string& stream, std::string from) {
  auto& slot = tails_[stream];
  if (!slot)
    slot = std::make_unique<rill::tail>(system_, spawn_stream_tailer(stream, std::move(from)));
  return *slot;
}

consumer& runtime::add_consumer(consumer_options opts) {
  if (started_)
    throw std::logic_error("add_consumer after start");
  if (auto err = validate(opts))
    throw std::invalid_argument(describe(err));
  opts.request_timeout = reply_deadline(settings_.redis);
  // In a cluster the dead-letter script needs both keys in one slot: a
  // configured key elsewhere is refused here, not by a CROSSSLOT later.
  opts.dead_letter_stream = redis_->dead_letter_stream(opts.stream, opts.dead_letter_stream);
  auto rules = effect_rules_for(opts);
  consumers_.emplace_back(new consumer(std::move(opts), settings_.metrics.buckets));
  consumers_.back()->effect_rules_ = std::move(rules);
  return *consumers_.back();
}

void runtime::start() {
  if (started_)
    return;
  started_ = true;
  for (auto& c : consumers_) {
    if (c->callbacks_->empty() && c->opts_.local_workers)
      spdlog::warn("consumer {}/{} has no callbacks: entries are acked unprocessed",
                   c->opts_.stream, c->opts_.group);
    // The reader's connection reports into the consumer's metrics (an
    // aliasing pointer: the metrics own it).
    std::shared_ptr<connection_metrics> conn_metrics{c->metrics_, &c->metrics_->connection};
    auto make_connection
      = [topology = redis_, stream = c->opts_.stream, conn_metrics](caf::actor listener) {
          return topology->spawn_own(stream, "-reader", std::move(listener), conn_metrics);
        };
    c->reader_ = spawn_reader(system_, c->opts_, make_connection, shared_conn_, c->metrics_);
    std::shared_ptr<const callback_list> callbacks = c->callbacks_;
    auto for_workers = caf::actor_cast<reader_actor>(c->reader_);
    for (uint32_t i = 0; c->opts_.local_workers && i < c->opts_.max_in_flight; ++i)
      spawn_worker(system_, for_workers, callbacks, shared_conn_, c->opts_.callback_timeout, false,
                   caf::actor{}, producer_, c->metrics_->timings->add(), c->effect_rules_);
    spawn_group_probe(system_, c->opts_.stream, c->opts_.group, shared_conn_, c->metrics_,
                      settings_.metrics.interval, reply_deadline(settings_.redis), c->reader_);
  }
  if (!settings_.http.listen.empty()) {
    std::string error;
    http_ = http_service::start(*this, error);
    if (!http_)
      throw std::invalid_argument("http.listen: " + error);
    spdlog::info("http: serving /metrics, /livez, /readyz and the dashboard on port {}",
                 http_->port());
  }
}

uint16_t runtime::http_port() const noexcept {
  return http_ ? http_->port() : 0;
}

std::shared_ptr<worker_timings> runtime::worker_pool_timings(const std::string& stream,
                                                             const std::string& group) {
  std::lock_guard<std::mutex> guard{pools_mtx_};
  for (const auto& p : worker_pools_)
    if (p.stream == stream && p.group == group)
      return p.timings;
  worker_pools_.push_back(
    worker_pool{stream, group, std::make_shared<worker_timings>(settings_.metrics.buckets)});
  return worker_pools_.back().timings;
}

std::vector<runtime::worker_pool> runtime::worker_pools() const {
  std::lock_guard<std::mutex> guard{pools_mtx_};
  return worker_pools_;
}

void runtime::stop() {
  stop_requested_ = true;
  for (auto& c : consumers_)
    if (c->reader_)
      caf::anon_send(c->reader_, stop_atom::value);
  std::lock_guard<std::mutex> guard{pools_mtx_};
  for (auto& p : pools_)
    caf::anon_send(p.relay, withdraw_atom::value);
}

void runtime::add_remote_pool(caf::actor relay) {
  auto gone = std::make_shared<std::atomic<bool>>(false);
  caf::actor_cast<caf::abstract_actor*>(relay)->attach_functor([gone] { *gone = true; });
  std::lock_guard<std::mutex> guard{pools_mtx_};
  pools_.erase(std::remove_if(pools_.begin(), pools_.end(),
                              [](const remote_pool& p) { return p.gone->load(); }),
               pools_.end());
  pools_.push_back(remote_pool{std::move(relay), std::move(gone)});
}

bool runtime::remote_pools_drained() const {
  std::lock_guard<std::mutex> guard{pools_mtx_};
  return std::all_of(pools_.begin(), pools_.end(),
                     [](const remote_pool& p) { return p.gone->load(); });
}

bool runtime::remote_pool_gone(const caf::actor& relay) const {
  std::lock_guard<std::mutex> guard{pools_mtx_};
  auto i = std::find_if(pools_.begin(), pools_.end(),
                        [&](const remote_pool& p) { return p.relay == relay; });
  return i == pools_.end() || i->gone->load(); // dropped from the list: gone before
}

bool runtime::await_consumers(caf::timespan timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (consumers_.empty() || consumers_finished())
      return true;
    if (std::chrono::steady_clock::now() >= until)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
}

bool runtime::refused() const {
  return std::any_of(consumers_.begin(), consumers_.end(),
                     [](const auto& c) { return c->metrics_->refused.load(); });
}

uint64_t runtime::unflushed_acks() const {
  uint64_t n = 0;
  for (auto& c : consumers_)
    n += c->metrics_->unflushed_acks.load();
  return n;
}

bool runtime::consumers_finished() const {
  if (consumers_.empty())
    return false;
  for (auto& c : consumers_)
    if (!c->metrics_->finished.load())
      return false;
  return true;
}

int runtime::run(const std::function<bool()>& done, const std::function<void()>& on_tick,
                 caf::timespan tick) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  // Completion is checked every 5 ms (so callers measure the end precisely);
  // `on_tick` runs every `tick`.
  constexpr auto poll = std::chrono::milliseconds{5};
  const timespec wait{0, std::chrono::nanoseconds{poll}.count()};
  auto next_tick = std::chrono::steady_clock::now() + tick;
  for (;;) {
    if (interrupted_ ? (consumers_finished() || consumers_.empty()) && remote_pools_drained()
                     : (done ? done() : consumers_finished()))
      return refused() ? exit_refused : unflushed_acks() > 0 ? exit_unflushed_acks : 0;
    int sig = 0;
    if (settings_.take_signals) {
      sig = sigtimedwait(&set, nullptr, &wait);
    } else { // the app owns its signals and calls stop()
      nanosleep(&wait, nullptr);
      interrupted_ = interrupted_ || stop_requested_;
    }
    if (sig > 0) {
      if (interrupted_) {
        spdlog::warn("second {}: exiting without waiting", strsignal(sig));
        return 130;
      }
      spdlog::info("{}: stopping (finishing in-flight entries, flushing acks)", strsignal(sig));
      interrupted_ = true;
      stop();
    }
    if (on_tick && std::chrono::steady_clock::now() >= next_tick) {
      next_tick += tick;
      on_tick();
    }
  }
}

caf::expected<std::string> runtime::xadd(const std::string& stream,
                                         std::vector<std::string> fields) {
  caf::scoped_actor self{system_};
  caf::expected<std::string> result{std::string{}};
  self
    ->request(producer_, reply_deadline(settings_.redis) * 2, xadd_atom::value, stream,
              std::move(fields))
    .receive([&](std::string& id) { result = std::move(id); },
             [&](caf::error& err) { result = std::move(err); });
  return result;
}

std::string runtime::dead_letter_stream(const std::string& stream,
                                        const std::string& configured) const {
  return redis_->dead_letter_stream(stream, configured);
}

caf::expected<redis_reply> runtime::command(redis_command cmd) {
  caf::scoped_actor self{system_};
  caf::expected<redis_reply> result{redis_reply{}};
  self->request(shared_conn_, reply_deadline(settings_.redis) + cmd.blocks_for, std::move(cmd))
    .receive([&](redis_reply& r) { result = std::move(r); },
             [&](caf::error& err) { result = std::move(err); });
  return result;
}

} // namespace rill
