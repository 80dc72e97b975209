// A party's secure session: opened once over the mesh before any secure work, it runs the session
// handshake and every seed agreement of set-up, and owns what they set up: the arithmetic protocol
// of this party's role, the boolean backend that goes with it and, when comparisons run by FSS,
// the FSS key dealing. The role follows from mesh.self() (2PC: 0 = P0 model owner, 1 = P1 user,
// 2 = dealer; 3PC: parties 0, 1, 2); the 2PC dealer opens the same session and follows the same
// program with shape-only shares.
//
// What is built on a session (ops::SecureOps, and through them the secure model and the cache
// policies) talks to no one when it is constructed: any number of them draw from the session's
// boolean backend and key dealing, so every party must use them in the same order, as every
// operator does. That is also why the comparison method is the session's: the key dealing it
// needs is agreed at open time.
#pragma once

#include "mpc/fixed_point.hpp"
#include "net/mesh.hpp"
#include "protocols/boolean.hpp"
#include "protocols/protocol.hpp"

#include <memory>
#include <string>

namespace protocols {

namespace fss {
class KeyDealing;
}

// How comparisons ([x < 0] and everything built on it) are computed: a boolean circuit (a
// parallel-prefix adder over boolean shares) or function secret sharing (one round per comparison
// in 2PC, two in 3PC where P2 deals the keys; more dealer bytes; protocols/fss/fss_comparison.hpp).
// With FSS, exp and the first guesses of 1/x and 1/sqrt(x) are table lookups by the same key
// dealer (protocols/fss/fss_lookup.hpp).
enum class Comparisons { boolean, fss };

std::string to_string(Comparisons c);
Comparisons parse_comparisons(const std::string& name);  // "boolean" or "fss"; throws std::invalid_argument

struct SessionOptions {
  mpc::FixedPoint fp = mpc::FixedPoint();
  // Any description of the job the parties must agree on (model, shapes, flags); a mismatch
  // throws SessionMismatch on every party.
  std::string config = "";
  Comparisons comparisons = Comparisons::boolean;
};

class Session {
 public:
  // Every party of the three-party mesh opens it at the same point. In order: the handshake and
  // the arithmetic protocol's seeds (phase "setup", protocols/factory.hpp), the boolean backend's
  // seeds (one message from the dealer in 2PC, phase "offline"; one round in 3PC, "setup"), and
  // with FSS comparisons the key dealer's seeds (one message to each of P0 and P1, "offline").
  Session(Backend backend, net::Mesh& mesh, SessionOptions options = {});
  ~Session();
  // The backends hold references to the protocol and the operators to the session.
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  Protocol& protocol() { return *protocol_; }
  BooleanBackend& boolean() { return *boolean_; }
  Comparisons comparisons() const { return comparisons_; }
  // The FSS key dealing: present exactly when comparisons() is fss.
  fss::KeyDealing* key_dealing() { return key_dealing_.get(); }

 private:
  Comparisons comparisons_;
  std::unique_ptr<Protocol> protocol_;
  std::unique_ptr<BooleanBackend> boolean_;
  std::unique_ptr<fss::KeyDealing> key_dealing_;
};

}  // namespace protocols
