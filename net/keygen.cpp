#include "net/keygen.hpp"

#include "net/parties_config.hpp"

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>

namespace net {

namespace {

[[noreturn]] void fail(const std::string& what) {
  const std::string detail = ossl::drain_errors();
  throw KeygenError(what + (detail.empty() ? "" : " (" + detail + ")"));
}

void check(bool ok, const char* what) {
  if (!ok) fail(std::string("certificate generation failed: ") + what);
}

void set_random_serial(X509* cert) {
  unsigned char bytes[16];
  check(RAND_bytes(bytes, sizeof bytes) == 1, "random serial");
  bytes[0] &= 0x7f;  // a positive serial
  BIGNUM* bn = BN_bin2bn(bytes, sizeof bytes, nullptr);
  check(bn != nullptr && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != nullptr, "serial");
  BN_free(bn);
}

void set_validity(X509* cert, int valid_from_days, int valid_days) {
  constexpr long kDay = 24L * 3600L;
  check(X509_gmtime_adj(X509_getm_notBefore(cert), valid_from_days * kDay) != nullptr, "notBefore");
  check(X509_gmtime_adj(X509_getm_notAfter(cert), (static_cast<long>(valid_from_days) + valid_days) * kDay) != nullptr,
        "notAfter");
}

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  check(ext != nullptr, OBJ_nid2sn(nid));
  const bool added = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  check(added, OBJ_nid2sn(nid));
}

void add_extensions(X509* cert, X509* issuer, const CertificateSpec& spec) {
  add_extension(cert, issuer, NID_basic_constraints, spec.is_ca ? "critical,CA:TRUE,pathlen:0" : "critical,CA:FALSE");
  add_extension(cert, issuer, NID_key_usage, spec.is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  if (!spec.is_ca) add_extension(cert, issuer, NID_ext_key_usage, "serverAuth,clientAuth");
  add_extension(cert, issuer, NID_subject_key_identifier, "hash");
  if (issuer != cert) add_extension(cert, issuer, NID_authority_key_identifier, "keyid:always");
  std::string san;
  for (const auto& name : spec.dns_names) san += (san.empty() ? "DNS:" : ",DNS:") + name;
  if (!san.empty()) add_extension(cert, issuer, NID_subject_alt_name, san);
}

void write_pem_file(const std::string& path, mode_t mode, const std::function<int(BIO*)>& write_pem) {
  ossl::BioPtr bio(BIO_new(BIO_s_mem()));
  check(bio != nullptr && write_pem(bio.get()) == 1, "PEM encoding");
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  // open + fchmod, so that an existing file with looser permissions is tightened too.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) throw KeygenError("cannot write '" + path + "': " + std::strerror(errno));
  bool ok = ::fchmod(fd, mode) == 0;
  for (long done = 0; ok && done < length;) {
    const ssize_t n = ::write(fd, data + done, static_cast<std::size_t>(length - done));
    ok = n > 0;
    done += ok ? n : 0;
  }
  const int saved = errno;
  ::close(fd);
  if (!ok) throw KeygenError("cannot write '" + path + "': " + std::strerror(saved));
}

}  // namespace

ossl::PkeyPtr generate_key() {
  ossl::PkeyPtr key(EVP_EC_gen("P-256"));
  check(key != nullptr, "P-256 key generation");
  return key;
}

Credential make_certificate(const CertificateSpec& spec, const Credential* issuer) {
  if (spec.common_name.empty()) throw KeygenError("a certificate needs a common name");
  Credential out{generate_key(), ossl::X509Ptr(X509_new())};
  X509* cert = out.cert.get();
  check(cert != nullptr && X509_set_version(cert, 2) == 1, "X509 version");
  set_random_serial(cert);
  set_validity(cert, spec.valid_from_days, spec.valid_days);
  X509_NAME* name = X509_get_subject_name(cert);
  check(X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1, -1, 0) == 1,
        "subject name");
  X509* issuer_cert = issuer ? issuer->cert.get() : cert;
  EVP_PKEY* signing_key = issuer ? issuer->key.get() : out.key.get();
  check(X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert)) == 1, "issuer name");
  check(X509_set_pubkey(cert, out.key.get()) == 1, "public key");
  add_extensions(cert, issuer_cert, spec);
  check(X509_sign(cert, signing_key, EVP_sha256()) > 0, "signature");
  return out;
}

Credential make_ca(const std::string& common_name, int valid_days) {
  CertificateSpec spec;
  spec.common_name = common_name;
  spec.valid_days = valid_days;
  spec.is_ca = true;
  return make_certificate(spec, nullptr);
}

Credential load_credential(const std::string& cert_path, const std::string& key_path) {
  ossl::BioPtr cert_file(BIO_new_file(cert_path.c_str(), "r"));
  if (!cert_file) fail("cannot open certificate '" + cert_path + "'");
  ossl::X509Ptr cert(PEM_read_bio_X509(cert_file.get(), nullptr, nullptr, nullptr));
  if (!cert) fail("cannot parse certificate '" + cert_path + "'");
  ossl::BioPtr key_file(BIO_new_file(key_path.c_str(), "r"));
  if (!key_file) fail("cannot open private key '" + key_path + "'");
  ossl::PkeyPtr key(PEM_read_bio_PrivateKey(key_file.get(), nullptr, nullptr, nullptr));
  if (!key) fail("cannot parse private key '" + key_path + "'");
  if (X509_check_private_key(cert.get(), key.get()) != 1)
    fail("private key '" + key_path + "' does not match certificate '" + cert_path + "'");
  return {std::move(key), std::move(cert)};
}

void write_certificate(const X509* cert, const std::string& path) {
  write_pem_file(path, 0644, [cert](BIO* bio) { return PEM_write_bio_X509(bio, const_cast<X509*>(cert)); });
}

void write_private_key(const EVP_PKEY* key, const std::string& path) {
  write_pem_file(path, 0600, [key](BIO* bio) {
    return PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  });
}

void generate_deployment(const std::string& out_dir, int parties, const std::string& host, std::uint16_t base_port,
                         int valid_days) {
  if (parties < 2) throw KeygenError("a deployment needs at least two parties, got " + std::to_string(parties));
  if (valid_days < 1) throw KeygenError("certificates must be valid for at least one day, got " + std::to_string(valid_days));
  if (static_cast<int>(base_port) + parties - 1 > 65535 || base_port == 0)
    throw KeygenError("ports " + std::to_string(base_port) + ".." + std::to_string(base_port + parties - 1) +
                      " do not fit in 1..65535");
  namespace fs = std::filesystem;
  fs::create_directories(out_dir);
  const fs::path dir(out_dir);
  const Credential ca = make_ca("mpcache-deployment-ca", valid_days);
  write_certificate(ca.cert.get(), (dir / "ca.crt").string());
  write_private_key(ca.key.get(), (dir / "ca.key").string());
  PartiesConfig cfg;
  cfg.ca = (dir / "ca.crt").string();
  for (int id = 0; id < parties; ++id) {
    CertificateSpec spec;
    spec.common_name = party_common_name(id);
    spec.dns_names = {spec.common_name};
    spec.valid_days = valid_days;
    const Credential party = make_certificate(spec, &ca);
    const std::string stem = "party" + std::to_string(id);
    write_certificate(party.cert.get(), (dir / (stem + ".crt")).string());
    write_private_key(party.key.get(), (dir / (stem + ".key")).string());
    cfg.parties.push_back({id, host, static_cast<std::uint16_t>(base_port + id), (dir / (stem + ".crt")).string(),
                           (dir / (stem + ".key")).string()});
  }
  cfg.save((dir / "parties.json").string());
  spdlog::debug("wrote a {}-party deployment (CA and certificates) to {}", parties, out_dir);
}

}  // namespace net
