// Running several parties of a test in one process: a fresh deployment (CA and certificates) in a
// temporary folder on free loopback ports, one thread and one TLS mesh per party, and failures
// collected per party. A party that throws closes its mesh, so its peers fail fast instead of hanging.
#pragma once

#include "net/keygen.hpp"
#include "net/mesh.hpp"
#include "net/parties_config.hpp"
#include "net/tls_mesh.hpp"
#include "tests/support/reserved_ports.hpp"

#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace test_support {

// A fresh directory under the system temp folder, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct TestDeployment {
  TempDir dir;
  std::unique_ptr<ReservedPorts> ports;  // party i listens on ports->port(i) while the deployment lives
  net::PartiesConfig config;

  std::string file(const std::string& name) const { return (dir.path() / name).string(); }
  // The deployment's CA with its key, to sign extra certificates.
  net::Credential ca() const;
  // Gives party `id` a new key and a certificate made from `spec`, signed by `issuer`
  // (the deployment CA when nullptr).
  void replace_party_certificate(int id, const net::CertificateSpec& spec, const net::Credential* issuer = nullptr);
};

// generate_deployment() for `parties` parties on reserved loopback ports in a new temp folder.
std::unique_ptr<TestDeployment> make_test_deployment(int parties);

// Timeouts short enough for tests on a loaded machine, long enough not to flake.
net::MeshOptions test_mesh_options();

// The first failure of a multi-party run: "party <id>: <what>", with the original exception kept.
class PartyFailure : public std::runtime_error {
 public:
  PartyFailure(int party, std::exception_ptr cause);
  int party() const { return party_; }
  const std::exception_ptr& cause() const { return cause_; }
  [[noreturn]] void rethrow_cause() const { std::rethrow_exception(cause_); }

 private:
  int party_;
  std::exception_ptr cause_;
};

// The text of an exception_ptr ("" for none).
std::string describe(const std::exception_ptr& error);

// Runs body(id) for every party on its own thread and joins them; element i is party i's exception.
std::vector<std::exception_ptr> run_party_threads(int parties, const std::function<void(int)>& body);

// Connects every party of `cfg` to a TLS mesh and runs `body` on it; returns each party's exception.
std::vector<std::exception_ptr> run_tls_parties_collect(const net::PartiesConfig& cfg,
                                                        const std::function<void(net::Mesh&)>& body,
                                                        const net::MeshOptions& opts = {});

// As above on a fresh deployment of n parties; throws PartyFailure for the party that failed first
// (in time: later failures are usually consequences, such as a peer closing).
void run_tls_parties(int n, const std::function<void(net::Mesh&)>& body,
                     const net::MeshOptions& opts = {});

}  // namespace test_support
