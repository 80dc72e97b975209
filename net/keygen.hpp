// Certificates for a deployment: one CA, and per party a key pair and a certificate whose subject
// common name is "mpcache-party-<id>" (the identity the transport checks after the handshake).
// Keys are ECDSA P-256; private keys are written unencrypted with mode 0600.
#pragma once

#include "net/openssl_handles.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace net {

class KeygenError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A private key with its certificate.
struct Credential {
  ossl::PkeyPtr key;
  ossl::X509Ptr cert;
};

struct CertificateSpec {
  std::string common_name;
  std::vector<std::string> dns_names;  // subjectAltName entries
  int valid_from_days = 0;             // start of validity relative to now (negative: in the past)
  int valid_days = 365;                // length of validity
  bool is_ca = false;
};

// A fresh P-256 key pair.
ossl::PkeyPtr generate_key();
// A self-signed CA certificate with a fresh key.
Credential make_ca(const std::string& common_name, int valid_days = 365);
// A certificate with a fresh key, signed by `issuer` (or self-signed when issuer is nullptr).
Credential make_certificate(const CertificateSpec& spec, const Credential* issuer);

// Reads a PEM certificate and its PEM private key (e.g. the CA, to sign further certificates).
Credential load_credential(const std::string& cert_path, const std::string& key_path);

void write_certificate(const X509* cert, const std::string& path);
// Written with mode 0600 because the file holds a secret.
void write_private_key(const EVP_PKEY* key, const std::string& path);

// Writes ca.crt, ca.key, party<i>.crt, party<i>.key for i in 0..parties-1 and parties.json
// (host for every party, ports base_port + id) into out_dir, creating it if needed.
void generate_deployment(const std::string& out_dir, int parties, const std::string& host,
                         std::uint16_t base_port, int valid_days = 365);

}  // namespace net
