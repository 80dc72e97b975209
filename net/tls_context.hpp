// The TLS configuration every party uses: TLS 1.3 only, mutual authentication against the
// deployment CA, no session tickets, and buffers sized for large frames.
#pragma once

#include "net/openssl_handles.hpp"
#include "net/parties_config.hpp"

#include <optional>
#include <string>

namespace net {

// What the verify callback saw, kept per connection so a failed handshake can say which
// identity the peer claimed and why its certificate was refused.
struct VerifyNotes {
  std::string presented_name;  // subject CN of the peer's leaf certificate
  std::string failure;         // first verification error ("" if none)
};

// Builds the context for party `self` (its certificate and key, the CA). Throws NetError.
ossl::SslCtxPtr make_tls_context(const PartiesConfig& cfg, int self);

// Attaches `notes` to an SSL object so the verify callback can fill it in.
void attach_verify_notes(SSL* ssl, VerifyNotes* notes);

// The party id encoded in a common name "mpcache-party-<id>", if it is one.
std::optional<int> party_id_from_common_name(const std::string& name);

}  // namespace net
