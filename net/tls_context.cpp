#include "net/tls_context.hpp"

#include "net/mesh.hpp"

#include <openssl/err.h>

#include <charconv>

namespace net {

namespace {

int notes_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

int verify_callback(int preverify_ok, X509_STORE_CTX* store) {
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* notes = ssl ? static_cast<VerifyNotes*>(SSL_get_ex_data(ssl, notes_index())) : nullptr;
  if (notes != nullptr) {
    if (notes->presented_name.empty()) notes->presented_name = ossl::common_name(X509_STORE_CTX_get0_cert(store));
    if (!preverify_ok && notes->failure.empty())
      notes->failure = X509_verify_cert_error_string(X509_STORE_CTX_get_error(store));
  }
  return preverify_ok;
}

[[noreturn]] void fail(int self, const std::string& what) {
  const std::string detail = ossl::drain_errors();
  throw NetError("party " + std::to_string(self) + ": " + what + (detail.empty() ? "" : " (" + detail + ")"));
}

}  // namespace

ossl::SslCtxPtr make_tls_context(const PartiesConfig& cfg, int self) {
  cfg.check_files_for(self);
  const PartyEntry& me = cfg.party(self);
  ERR_clear_error();
  ossl::SslCtxPtr ctx(SSL_CTX_new(TLS_method()));
  if (!ctx) fail(self, "cannot create a TLS context");
  SSL_CTX* c = ctx.get();
  if (SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION) != 1 || SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION) != 1)
    fail(self, "cannot restrict TLS to version 1.3");
  // AES-128-GCM first: it is the fastest suite with AES-NI and still 128-bit secure.
  if (SSL_CTX_set_ciphersuites(c, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256") != 1)
    fail(self, "cannot set the TLS 1.3 cipher suites");
  if (SSL_CTX_use_certificate_chain_file(c, me.cert.c_str()) != 1) fail(self, "cannot load certificate '" + me.cert + "'");
  if (SSL_CTX_use_PrivateKey_file(c, me.key.c_str(), SSL_FILETYPE_PEM) != 1)
    fail(self, "cannot load private key '" + me.key + "'");
  if (SSL_CTX_check_private_key(c) != 1) fail(self, "private key '" + me.key + "' does not match '" + me.cert + "'");
  if (SSL_CTX_load_verify_locations(c, cfg.ca.c_str(), nullptr) != 1) fail(self, "cannot load CA '" + cfg.ca + "'");
  SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_callback);
  // Connections live for the whole session; resumption would only add state.
  SSL_CTX_set_num_tickets(c, 0);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  // An EOF without close_notify is reported like a clean close; the frame layer detects truncation itself.
  SSL_CTX_set_options(c, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_TICKET);
  SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // No read-ahead: with it, OpenSSL re-aligns the unread rest of its buffer before every record
  // (a memmove of up to the whole buffer per 16 KiB record); without it, a record costs two recv()
  // calls (header, body) and no copy besides decryption and the hand-over to the caller's buffer.
  SSL_CTX_set_read_ahead(c, 0);
  return ctx;
}

void attach_verify_notes(SSL* ssl, VerifyNotes* notes) { SSL_set_ex_data(ssl, notes_index(), notes); }

std::optional<int> party_id_from_common_name(const std::string& name) {
  const std::string prefix = party_common_name(0).substr(0, party_common_name(0).size() - 1);
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  int id = -1;
  const char* first = name.data() + prefix.size();
  const char* last = name.data() + name.size();
  auto [end, ec] = std::from_chars(first, last, id);
  if (ec != std::errc() || end != last || id < 0 || (*first == '0' && last - first > 1)) return std::nullopt;
  return id;
}

}  // namespace net
