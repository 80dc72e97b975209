#include "net/keygen.hpp"
#include "net/parties_config.hpp"
#include "net/tls_context.hpp"
#include "tests/support/party_harness.hpp"

#include <openssl/x509v3.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <ctime>

namespace {

bool verifies_against(const X509* cert, const X509* ca) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, const_cast<X509*>(ca));
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, const_cast<X509*>(cert), nullptr);
  const bool ok = X509_verify_cert(ctx) == 1;
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return ok;
}

unsigned permissions(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

}  // namespace

TEST(Keygen, DeploymentHasACaPartyCertificatesAndAParsableConfig) {
  test_support::TempDir dir;
  const std::string out = (dir.path() / "deploy").string();
  net::generate_deployment(out, 3, "127.0.0.1", 47100, 10);
  const net::PartiesConfig cfg = net::PartiesConfig::load(out + "/parties.json");
  ASSERT_EQ(cfg.size(), 3);
  const net::Credential ca = net::load_credential(out + "/ca.crt", out + "/ca.key");
  EXPECT_EQ(permissions(out + "/ca.key"), 0600u);
  for (int id = 0; id < 3; ++id) {
    const net::PartyEntry& entry = cfg.party(id);
    EXPECT_EQ(entry.port, 47100 + id);
    EXPECT_EQ(entry.host, "127.0.0.1");
    EXPECT_EQ(permissions(entry.key), 0600u);
    const net::Credential party = net::load_credential(entry.cert, entry.key);
    EXPECT_EQ(net::ossl::common_name(party.cert.get()), "mpcache-party-" + std::to_string(id));
    EXPECT_EQ(X509_check_host(party.cert.get(), net::party_common_name(id).c_str(), 0, 0, nullptr), 1);
    EXPECT_TRUE(verifies_against(party.cert.get(), ca.cert.get()));
    EXPECT_EQ(X509_check_ca(party.cert.get()), 0) << "a party certificate must not be able to sign others";
    EXPECT_NO_THROW(cfg.check_files_for(id));
  }
}

TEST(Keygen, ExpiredAndForeignCertificatesFailVerification) {
  const net::Credential ca = net::make_ca("ca");
  const net::Credential other = net::make_ca("other");
  net::CertificateSpec spec;
  spec.common_name = "mpcache-party-1";
  EXPECT_TRUE(verifies_against(net::make_certificate(spec, &ca).cert.get(), ca.cert.get()));
  EXPECT_FALSE(verifies_against(net::make_certificate(spec, &other).cert.get(), ca.cert.get()));
  spec.valid_from_days = -3;
  spec.valid_days = 1;
  const net::Credential expired = net::make_certificate(spec, &ca);
  EXPECT_LT(X509_cmp_current_time(X509_get0_notAfter(expired.cert.get())), 0);
  EXPECT_FALSE(verifies_against(expired.cert.get(), ca.cert.get()));
}

TEST(Keygen, RejectsBadArguments) {
  test_support::TempDir dir;
  EXPECT_THROW(net::generate_deployment(dir.path().string(), 1, "127.0.0.1", 47000), net::KeygenError);
  EXPECT_THROW(net::generate_deployment(dir.path().string(), 3, "127.0.0.1", 65534), net::KeygenError);
  EXPECT_THROW(net::generate_deployment(dir.path().string(), 2, "127.0.0.1", 47000, 0), net::KeygenError);
  EXPECT_THROW(net::make_certificate(net::CertificateSpec{}, nullptr), net::KeygenError);
  EXPECT_THROW(net::load_credential((dir.path() / "none.crt").string(), (dir.path() / "none.key").string()),
               net::KeygenError);
}

TEST(Keygen, PartyIdsAreParsedOnlyFromExactPartyNames) {
  EXPECT_EQ(net::party_id_from_common_name("mpcache-party-0"), 0);
  EXPECT_EQ(net::party_id_from_common_name("mpcache-party-12"), 12);
  EXPECT_FALSE(net::party_id_from_common_name("mpcache-party-"));
  EXPECT_FALSE(net::party_id_from_common_name("mpcache-party-01"));
  EXPECT_FALSE(net::party_id_from_common_name("mpcache-party-1x"));
  EXPECT_FALSE(net::party_id_from_common_name("mpcache-party--1"));
  EXPECT_FALSE(net::party_id_from_common_name("evil-party-1"));
}
