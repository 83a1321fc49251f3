#include <rill/runtime/consumer.hpp>

namespace rill {

consumer::consumer(consumer_options opts, const metric_buckets& buckets) :
  opts_(std::move(opts)), callbacks_(std::make_shared<callback_list>()),
  metrics_(std::make_shared<consumer_metrics>(buckets)) {
  if (opts_.consumer.empty())
    opts_.consumer = default_consumer_name();
  metrics_->consumer_name = opts_.consumer;
}

} // namespace rill
