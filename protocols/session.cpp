#include "protocols/session.hpp"

#include "protocols/factory.hpp"
#include "protocols/fss/key_dealing.hpp"
#include "protocols/three_party/boolean_three_party.hpp"
#include "protocols/two_party/boolean_dealer.hpp"
#include "protocols/two_party/boolean_two_party.hpp"

#include <stdexcept>

namespace protocols {

namespace {

// The boolean backend matching proto.backend(); agrees its seeds over proto.mesh().
std::unique_ptr<BooleanBackend> make_boolean_backend(Protocol& proto) {
  switch (proto.backend()) {
    case Backend::TwoPartyDealer:
      if (proto.role() == Role::Dealer) return std::make_unique<BooleanDealer>(proto);
      return std::make_unique<BooleanTwoParty>(proto);
    case Backend::ThreePartyReplicated: return std::make_unique<BooleanThreeParty>(proto);
  }
  throw std::invalid_argument("session: unknown backend");
}

}  // namespace

std::string to_string(Comparisons c) { return c == Comparisons::fss ? "fss" : "boolean"; }

Comparisons parse_comparisons(const std::string& name) {
  if (name == "boolean") return Comparisons::boolean;
  if (name == "fss") return Comparisons::fss;
  throw std::invalid_argument("comparisons must be boolean or fss, got '" + name + "'");
}

Session::Session(Backend backend, net::Mesh& mesh, SessionOptions options)
    : comparisons_(options.comparisons),
      protocol_(make_protocol(backend, mesh, options.fp, options.config)),
      boolean_(make_boolean_backend(*protocol_)) {
  if (comparisons_ == Comparisons::fss) key_dealing_ = std::make_unique<fss::KeyDealing>(*protocol_);
}

Session::~Session() = default;

}  // namespace protocols
