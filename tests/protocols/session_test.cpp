// Session set-up: parties that disagree on the backend, the fraction bits or the job fail at once
// with a message naming the difference.
#include "tests/protocols/backend_harness.hpp"

#include <regex>

namespace protocols_test {
namespace {

// Runs make_protocol on three parties with per-party settings; returns party 0's error message.
std::string setup_error(std::array<Backend, kParties> backends, std::array<int, kParties> frac_bits,
                        std::array<std::string, kParties> configs) {
  try {
    test_support::run_tls_parties(
        kParties,
        [&](net::Mesh& mesh) {
          const int self = mesh.self();
          protocols::make_protocol(backends[self], mesh, mpc::FixedPoint(frac_bits[self]), configs[self]);
        },
        test_support::test_mesh_options());
  } catch (const test_support::PartyFailure& failure) {
    try {
      failure.rethrow_cause();
    } catch (const protocols::SessionMismatch& e) {
      return e.what();
    }
  }
  return "";
}

TEST(SessionHandshake, DifferentConfigurationIsNamed) {
  const auto error = setup_error({Backend::TwoPartyDealer, Backend::TwoPartyDealer, Backend::TwoPartyDealer},
                                 {16, 16, 16}, {"gpt2 budget=64", "gpt2 budget=64", "gpt2 budget=128"});
  EXPECT_NE(error.find("session configuration"), std::string::npos) << error;
  // Whichever party fails first reports it: party 2 sees the others' 64, they see its 128.
  EXPECT_TRUE(std::regex_search(error, std::regex("budget (64 at party [01], 128|128 at party 2, 64) here"))) << error;
}

TEST(SessionHandshake, DifferingFieldsOfTheConfigurationAreListed) {
  const std::string mine = "secure-model arch=gpt2;hidden=256;positions=1024 new-tokens 8 temperature 0 policy full";
  const std::string theirs = "secure-model arch=gpt2;hidden=256;positions=2048 new-tokens 16 temperature 0 policy full";
  const auto error = setup_error({Backend::TwoPartyDealer, Backend::TwoPartyDealer, Backend::TwoPartyDealer},
                                 {16, 16, 16}, {mine, mine, theirs});
  EXPECT_TRUE(std::regex_search(error, std::regex("positions (1024 at party [01], 2048|2048 at party 2, 1024) here")))
      << error;
  EXPECT_TRUE(std::regex_search(error, std::regex("new-tokens (8 at party [01], 16|16 at party 2, 8) here"))) << error;
  EXPECT_EQ(error.find("temperature"), std::string::npos) << error;
}

TEST(SessionHandshake, DifferentBackendIsNamed) {
  const auto error = setup_error({Backend::ThreePartyReplicated, Backend::TwoPartyDealer, Backend::TwoPartyDealer},
                                 {16, 16, 16}, {"job", "job", "job"});
  EXPECT_NE(error.find("backend"), std::string::npos) << error;
  EXPECT_NE(error.find("3pc"), std::string::npos) << error;
}

TEST(SessionHandshake, DifferentFractionBitsAreNamed) {
  const auto error = setup_error({Backend::ThreePartyReplicated, Backend::ThreePartyReplicated,
                                  Backend::ThreePartyReplicated},
                                 {16, 18, 16}, {"job", "job", "job"});
  EXPECT_NE(error.find("fraction bits"), std::string::npos) << error;
  EXPECT_NE(error.find("18"), std::string::npos) << error;
}

TEST(SessionHandshake, AgreeingPartiesGetTheirRoles) {
  std::array<protocols::Role, kParties> roles{};
  run_backend(Backend::TwoPartyDealer, [&](Protocol& p) { roles[p.mesh().self()] = p.role(); });
  EXPECT_EQ(roles[0], protocols::Role::P0);
  EXPECT_EQ(roles[1], protocols::Role::P1);
  EXPECT_EQ(roles[2], protocols::Role::Dealer);
}

TEST(SessionHandshake, TwoPartyBackendNeedsThreeMeshParties) {
  EXPECT_THROW(test_support::run_tls_parties(
                   2, [](net::Mesh& mesh) { protocols::make_protocol(Backend::TwoPartyDealer, mesh); },
                   test_support::test_mesh_options()),
               test_support::PartyFailure);
}

}  // namespace
}  // namespace protocols_test
