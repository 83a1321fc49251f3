#include <rill/runtime/http_server.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <optional>
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
    if (auto a = req.find(http::field::authorization); a != req.end())
      r.authorization = std::string{a->value()};
    http_response out;
    try {
      out = srv_.handler(r);
    } catch (const std::exception& ex) {
      out
        = http_response{500, "text/plain", std::string{"internal error: "} + ex.what() + "\n", {}};
    }
    respond(std::move(out), req.keep_alive());
  }

  void respond(http_response out, bool keep_alive) {
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

void http_server::every(std::chrono::milliseconds period, std::function<void()> fn) {
  net::post(impl_->io, [p = impl_.get(), period, fn = std::move(fn)]() mutable {
    p->timers.push_back(std::make_unique<periodic>(p->io, period, std::move(fn)));
    p->timers.back()->arm();
  });
}

} // namespace rill
