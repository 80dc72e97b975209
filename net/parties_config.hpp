// The parties file: who takes part, where each party listens, and which certificates it uses.
//   {"ca": "ca.crt", "parties": [{"id": 0, "host": "127.0.0.1", "port": 47000,
//                                 "cert": "party0.crt", "key": "party0.key"}, ...]}
// Relative paths resolve against the folder of the file, so a deployment folder can be moved whole.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace net {

// A parties file that cannot be read or does not describe a valid deployment.
// The message always names the file.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The conventional certificate common name of a party; the transport authenticates peers by it.
std::string party_common_name(int id);

struct PartyEntry {
  int id = 0;
  std::string host;
  std::uint16_t port = 0;
  std::string cert;
  std::string key;
};

struct PartiesConfig {
  std::string ca;
  std::vector<PartyEntry> parties;  // sorted by id, ids are exactly 0..N-1
  std::string source;               // the file this was loaded from ("" if built in memory)

  // Parses and validates; throws ConfigError (missing file, bad JSON, missing or mistyped field,
  // duplicate id, ids not 0..N-1, port out of range, missing CA file).
  static PartiesConfig load(const std::string& path);
  // Writes the file; paths inside the target folder are stored relative to it.
  void save(const std::string& path) const;

  int size() const { return static_cast<int>(parties.size()); }
  // Throws ConfigError for an unknown id.
  const PartyEntry& party(int id) const;
  // Checks that the files party `id` needs to run (CA, its certificate and its private key) exist.
  void check_files_for(int id) const;
};

}  // namespace net
