#include "tests/support/party_harness.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <algorithm>
#include <mutex>
#include <random>
#include <set>
#include <thread>

namespace test_support {

namespace fs = std::filesystem;

TempDir::TempDir() {
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    const fs::path candidate = fs::temp_directory_path() / ("mpcache-test-" + std::to_string(rd()) + std::to_string(rd()));
    if (fs::create_directory(candidate)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory under " + fs::temp_directory_path().string());
}

TempDir::~TempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

net::Credential TestDeployment::ca() const { return net::load_credential(file("ca.crt"), file("ca.key")); }

void TestDeployment::replace_party_certificate(int id, const net::CertificateSpec& spec, const net::Credential* issuer) {
  const net::Credential deployment_ca = issuer ? net::Credential{} : ca();
  const net::Credential made = net::make_certificate(spec, issuer ? issuer : &deployment_ca);
  const net::PartyEntry& entry = config.party(id);
  net::write_certificate(made.cert.get(), entry.cert);
  net::write_private_key(made.key.get(), entry.key);
}

std::unique_ptr<TestDeployment> make_test_deployment(int parties) {
  auto deployment = std::make_unique<TestDeployment>();
  const std::string dir = deployment->dir.path().string();
  deployment->ports = std::make_unique<ReservedPorts>(parties);
  net::generate_deployment(dir, parties, "127.0.0.1", deployment->ports->port(0), 30);
  deployment->config = net::PartiesConfig::load(deployment->file("parties.json"));
  return deployment;
}

net::MeshOptions test_mesh_options() {
  net::MeshOptions opts;
  opts.connect_timeout = std::chrono::milliseconds(10000);
  opts.io_timeout = std::chrono::milliseconds(20000);
  return opts;
}

namespace {

// Network errors already start with "party <id>:"; other exceptions get the prefix.
std::string failure_message(int party, const std::exception_ptr& cause) {
  const std::string prefix = "party " + std::to_string(party) + ": ";
  const std::string text = describe(cause);
  return text.rfind(prefix, 0) == 0 ? text : prefix + text;
}

}  // namespace

PartyFailure::PartyFailure(int party, std::exception_ptr cause)
    : std::runtime_error(failure_message(party, cause)), party_(party), cause_(std::move(cause)) {}

std::string describe(const std::exception_ptr& error) {
  if (!error) return "";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

namespace {

// Failures in the order they happened. A party notes its failure before its mesh is torn down,
// because the teardown is what makes its peers fail next.
class FailureLog {
 public:
  explicit FailureLog(int parties) : errors_(static_cast<std::size_t>(parties)) {}

  void note(int id) {
    std::lock_guard lock(mutex_);
    if (std::find(order_.begin(), order_.end(), id) == order_.end()) order_.push_back(id);
  }
  void store(int id, std::exception_ptr error) {
    note(id);
    std::lock_guard lock(mutex_);
    errors_[static_cast<std::size_t>(id)] = std::move(error);
  }
  const std::vector<std::exception_ptr>& errors() const { return errors_; }
  const std::vector<int>& order() const { return order_; }

 private:
  std::mutex mutex_;
  std::vector<std::exception_ptr> errors_;
  std::vector<int> order_;
};

void run_threads(FailureLog& log, int parties, const std::function<void(int)>& body) {
  std::vector<std::thread> threads;
  for (int id = 0; id < parties; ++id)
    threads.emplace_back([&, id] {
      try {
        body(id);
      } catch (...) {
        log.store(id, std::current_exception());
      }
    });
  for (auto& t : threads) t.join();
}

std::function<void(int)> with_mesh(FailureLog& log, const net::PartiesConfig& cfg,
                                   const std::function<void(net::Mesh&)>& body, const net::MeshOptions& opts) {
  return [&log, &cfg, &body, opts](int id) {
    std::unique_ptr<net::Mesh> mesh = net::connect_tls_mesh(cfg, id, opts);
    try {
      body(*mesh);
    } catch (...) {
      log.note(id);
      throw;
    }
  };
}

}  // namespace

std::vector<std::exception_ptr> run_party_threads(int parties, const std::function<void(int)>& body) {
  FailureLog log(parties);
  run_threads(log, parties, body);
  return log.errors();
}

std::vector<std::exception_ptr> run_tls_parties_collect(const net::PartiesConfig& cfg,
                                                        const std::function<void(net::Mesh&)>& body,
                                                        const net::MeshOptions& opts) {
  FailureLog log(cfg.size());
  run_threads(log, cfg.size(), with_mesh(log, cfg, body, opts));
  return log.errors();
}

void run_tls_parties(int n, const std::function<void(net::Mesh&)>& body, const net::MeshOptions& opts) {
  const std::unique_ptr<TestDeployment> deployment = make_test_deployment(n);
  FailureLog log(n);
  run_threads(log, n, with_mesh(log, deployment->config, body, opts));
  if (!log.order().empty()) {
    const int first = log.order().front();
    throw PartyFailure(first, log.errors()[static_cast<std::size_t>(first)]);
  }
}

}  // namespace test_support
