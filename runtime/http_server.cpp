#include <rill/runtime/http_server.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <deque>
#include <optional>
#include <sstream>
#include <thread>

namespace rill {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

/// A function run on the server's thread every `period`.
struct periodic {
  periodic(net::io_context& io, std::chrono::milliseconds p, std::function<void()> f) :
    timer(io), period(p), fn(std::move(f)) {}

  void arm() {
    timer.expires_after(period);
    timer.async_wait([this](beast::error_code ec) {
      if (ec)
        return; // cancelled: the server stops
      fn();
      arm();
    });
  }

  net::steady_timer timer;
  std::chrono::milliseconds period;
  std::function<void()> fn;
};

} // namespace

struct http_server::impl {
  http_handler handler;
  limits lim;
  size_t sessions = 0; // touched on the server thread only
  // Declared before what uses it: destroyed after the acceptor and timers,
  // and its destructor drops the handlers (and sessions) still queued.
  net::io_context io{1};
  tcp::acceptor acceptor{io};
  std::vector<std::unique_ptr<periodic>> timers;
  std::thread thread;

  void accept();
};

namespace {

/// A streamed response after its headers: writes what it is given in order,
/// many queued items in one gather write, and keeps a read pending only to
/// learn that the client went (what a client sends now is discarded).
class event_stream : public http_stream, public std::enable_shared_from_this<event_stream> {
public:
  event_stream(tcp::socket socket, size_t max_bytes, http_server::impl& srv) :
    socket_(std::move(socket)), max_bytes_(max_bytes), srv_(srv) {
    ++srv_.sessions;
  }

  ~event_stream() override { --srv_.sessions; }

  void start(std::string header) {
    beast::error_code ignored;
    socket_.non_blocking(true, ignored);
    send(std::make_shared<const std::string>(std::move(header)));
    watch();
  }

  bool send(std::shared_ptr<const std::string> bytes) override {
    if (!queue(std::move(bytes)))
      return false;
    flush();
    return !closed_;
  }

  bool queue(std::shared_ptr<const std::string> bytes) override {
    if (closed_)
      return false;
    if (!queue_.empty() && queued_ + bytes->size() > max_bytes_) {
      close();
      return false;
    }
    queued_ += bytes->size();
    queue_.push_back(std::move(bytes));
    return true;
  }

  void flush() override {
    if (closed_ || writing_ || queue_.empty())
      return;
    // Straight to the socket (non-blocking): most writes end here - no write
    // operation, no completion handler - and only what the socket did not
    // take waits for an asynchronous write.
    gather();
    beast::error_code ec;
    auto n = socket_.write_some(buffers_, ec);
    if (ec && ec != net::error::would_block && ec != net::error::try_again) {
      close();
      return;
    }
    consume(n);
    if (!queue_.empty())
      write();
  }

  void close() override {
    if (closed_)
      return;
    closed_ = true;
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    queue_.clear();
    queued_ = 0;
    // Later, never from inside send or close: the owner may be walking the
    // list this stream is in.
    if (on_close_)
      net::post(socket_.get_executor(), [fn = std::move(on_close_)] { fn(); });
  }

  bool closed() const noexcept override { return closed_; }
  size_t queued_bytes() const noexcept override { return queued_; }
  void on_close(std::function<void()> fn) override { on_close_ = std::move(fn); }
  void on_written(std::function<void()> fn) override { on_written_ = std::move(fn); }

private:
  static constexpr size_t max_gather = 64;

  /// The queued items (at most max_gather) as one buffer sequence.
  void gather() {
    auto n = std::min(queue_.size(), max_gather);
    buffers_.clear();
    for (size_t i = 0; i < n; ++i)
      buffers_.emplace_back(net::buffer(*queue_[i]) + (i == 0 ? head_offset_ : 0));
  }

  /// Drops the first `n` bytes of the queue (the socket took them).
  void consume(size_t n) {
    while (!queue_.empty() && n > 0) {
      auto left = queue_.front()->size() - head_offset_;
      if (n < left) {
        head_offset_ += n;
        return;
      }
      n -= left;
      queued_ -= queue_.front()->size();
      queue_.pop_front();
      head_offset_ = 0;
    }
  }

  void write() {
    writing_ = true;
    gather();
    net::async_write(socket_, buffers_,
                     [self = shared_from_this()](beast::error_code ec, size_t n) {
                       self->writing_ = false;
                       if (ec || self->closed_) {
                         self->close();
                         return;
                       }
                       self->consume(n);
                       if (!self->queue_.empty())
                         self->write();
                       if (self->on_written_)
                         self->on_written_();
                     });
  }

  void watch() {
    socket_.async_read_some(net::buffer(scratch_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec)
                                self->close();
                              else if (!self->closed_)
                                self->watch();
                            });
  }

  tcp::socket socket_;
  size_t max_bytes_;
  http_server::impl& srv_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  std::vector<net::const_buffer> buffers_;
  /// Bytes of the first queued item the socket already took.
  size_t head_offset_ = 0;
  size_t queued_ = 0;
  bool writing_ = false;
  bool closed_ = false;
  char scratch_[64];
  std::function<void()> on_close_;
  std::function<void()> on_written_;
};

class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket socket, http_server::impl& srv) : stream_(std::move(socket)), srv_(srv) {
    ++srv_.sessions;
  }

  ~session() { --srv_.sessions; }

  void read() {
    parser_.emplace();
    parser_->header_limit(srv_.lim.max_header_bytes);
    parser_->body_limit(4096); // GET only: a body is read (bounded) and refused
    stream_.expires_after(srv_.lim.io_timeout);
    http::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

private:
  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout
        || ec == net::error::operation_aborted || ec == net::error::connection_reset) {
      close();
      return;
    }
    if (ec) { // malformed, headers or body too large: answer once, then close
      auto status = ec == http::error::header_limit ? 431u : 400u;
      respond(http_response{status, "text/plain", "bad request\n", {}}, false);
      return;
    }
    const auto& req = parser_->get();
    http_request r;
    r.method = std::string{req.method_string()};
    auto target = std::string{req.target()};
    auto q = target.find('?');
    r.path = target.substr(0, q);
    r.query = q == std::string::npos ? std::string{} : target.substr(q + 1);
    auto header = [&req](auto field) {
      auto at = req.find(field);
      return at == req.end() ? std::string{} : std::string{at->value()};
    };
    r.authorization = header(http::field::authorization);
    r.cookie = header(http::field::cookie);
    r.origin = header(http::field::origin);
    r.last_event_id = header("Last-Event-ID");
    http_response out;
    try {
      out = srv_.handler(r);
    } catch (const std::exception& ex) {
      out
        = http_response{500, "text/plain", std::string{"internal error: "} + ex.what() + "\n", {}};
    }
    respond(std::move(out), req.keep_alive());
  }

  /// The status and headers, then the connection goes to an event_stream.
  void open_stream(http_response out) {
    http::response<http::empty_body> head;
    head.version(11);
    head.result(out.status);
    head.set(http::field::server, "rill");
    head.set(http::field::content_type, out.content_type);
    head.set(http::field::cache_control, "no-store");
    for (auto& [name, value] : out.headers)
      head.set(name, value);
    head.keep_alive(false); // the body ends with the connection
    std::ostringstream text;
    text << head.base();
    stream_.expires_never();
    auto es = std::make_shared<event_stream>(stream_.release_socket(), out.max_queued_bytes, srv_);
    es->start(text.str() + out.body);
    out.stream(std::move(es));
  }

  void respond(http_response out, bool keep_alive) {
    if (out.stream) {
      open_stream(std::move(out));
      return;
    }
    res_ = {};
    res_.version(11);
    res_.result(out.status);
    res_.set(http::field::server, "rill");
    res_.set(http::field::content_type, out.content_type);
    res_.set(http::field::cache_control, "no-store"); // a handler may override it
    for (auto& [name, value] : out.headers)
      res_.set(name, value);
    res_.body() = std::move(out.body);
    res_.keep_alive(keep_alive);
    res_.prepare_payload();
    stream_.expires_after(srv_.lim.io_timeout);
    http::async_write(stream_, res_,
                      [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                        if (ec || !keep_alive)
                          self->close();
                        else
                          self->read();
                      });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_{8192};
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  http_server::impl& srv_;
};

} // namespace

void http_server::impl::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted)
      return; // closed: stopping
    if (!ec) {
      if (sessions >= lim.max_connections) {
        beast::error_code ignored;
        socket.close(ignored); // over the bound: the client sees a closed connection
      } else {
        std::make_shared<session>(std::move(socket), *this)->read();
      }
    }
    accept();
  });
}

std::unique_ptr<http_server> http_server::start(const std::string& host, uint16_t port,
                                                http_handler handler, limits lim,
                                                std::string& error) {
  auto p = std::make_unique<impl>();
  p->handler = std::move(handler);
  p->lim = lim;
  auto where = host + ":" + std::to_string(port);
  beast::error_code ec;
  tcp::resolver resolver{p->io};
  auto found = resolver.resolve(host, std::to_string(port), tcp::resolver::passive, ec);
  if (ec || found.empty()) {
    error = "cannot resolve " + where + ": " + ec.message();
    return nullptr;
  }
  tcp::endpoint ep = found.begin()->endpoint();
  p->acceptor.open(ep.protocol(), ec);
  if (!ec)
    p->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec)
    p->acceptor.bind(ep, ec);
  if (!ec)
    p->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    error = "cannot listen on " + where + ": " + ec.message();
    return nullptr;
  }
  p->accept();
  auto* raw = p.get();
  p->thread = std::thread{[raw] {
    raw->io.run();
  }};
  return std::unique_ptr<http_server>{new http_server{std::move(p)}};
}

http_server::http_server(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

http_server::~http_server() {
  net::post(impl_->io, [p = impl_.get()] {
    beast::error_code ignored;
    p->acceptor.close(ignored);
    for (auto& t : p->timers)
      t->timer.cancel();
    p->io.stop();
  });
  impl_->thread.join();
}

uint16_t http_server::port() const noexcept {
  beast::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void http_server::post(std::function<void()> fn) {
  net::post(impl_->io, std::move(fn));
}

void http_server::every(std::chrono::milliseconds period, std::function<void()> fn) {
  net::post(impl_->io, [p = impl_.get(), period, fn = std::move(fn)]() mutable {
    p->timers.push_back(std::make_unique<periodic>(p->io, period, std::move(fn)));
    p->timers.back()->arm();
  });
}

} // namespace rill
