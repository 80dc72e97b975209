#include "protocols/common/session_handshake.hpp"

#include "net/stats.hpp"

#include <nlohmann/json.hpp>

#include <vector>

namespace protocols {

namespace {

nlohmann::json to_json(const SessionDescription& d) {
  return {{"backend", d.backend}, {"frac_bits", d.frac_bits}, {"parties", d.parties}, {"config", d.config}};
}

SessionDescription from_frame(const net::Bytes& frame, int peer) {
  try {
    const auto j = nlohmann::json::parse(frame.begin(), frame.end());
    return SessionDescription{j.at("backend").get<std::string>(), j.at("frac_bits").get<int>(),
                              j.at("parties").get<int>(), j.at("config").get<std::string>()};
  } catch (const nlohmann::json::exception& e) {
    throw SessionMismatch("session handshake: party " + std::to_string(peer) +
                          " sent an unreadable session description (" + e.what() + ")");
  }
}

// The words of a configuration ("new-tokens 8 policy full", "hidden=768;layers=12").
std::vector<std::string> config_words(const std::string& config) {
  std::vector<std::string> words;
  std::string word;
  for (const char c : config + " ") {
    if (c != ' ' && c != ';') {
      word += c;
      continue;
    }
    if (!word.empty()) words.push_back(word);
    word.clear();
  }
  return words;
}

// "name: X at party P, Y here" for each differing field of two configurations of the same layout
// (fields are "key=value" words or a value after its name); empty when the layouts differ.
std::string config_field_differences(const std::string& mine, const std::string& theirs, const std::string& who) {
  const auto a = config_words(mine), b = config_words(theirs);
  if (a.size() != b.size()) return "";
  std::string out;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] == b[i]) continue;
    const auto eq_a = a[i].find('='), eq_b = b[i].find('=');
    std::string field = i > 0 ? a[i - 1] : "field 1";
    std::string here = a[i], there = b[i];
    if (eq_a != std::string::npos && eq_b != std::string::npos && a[i].substr(0, eq_a) == b[i].substr(0, eq_b)) {
      field = a[i].substr(0, eq_a);
      here = a[i].substr(eq_a + 1);
      there = b[i].substr(eq_b + 1);
    }
    out += (out.empty() ? "" : ", ") + field + " " + there + " at " + who + ", " + here + " here";
  }
  return out;
}

std::string differences(const SessionDescription& mine, const SessionDescription& theirs, int peer) {
  const std::string who = "party " + std::to_string(peer);
  std::string out;
  auto note = [&](const std::string& text) { out += (out.empty() ? "" : "; ") + text; };
  if (theirs.backend != mine.backend) note(who + " runs backend " + theirs.backend + ", this party " + mine.backend);
  if (theirs.frac_bits != mine.frac_bits)
    note(who + " uses " + std::to_string(theirs.frac_bits) + " fraction bits, this party " + std::to_string(mine.frac_bits));
  if (theirs.parties != mine.parties)
    note(who + " sees " + std::to_string(theirs.parties) + " parties, this party " + std::to_string(mine.parties));
  if (theirs.config != mine.config) {
    const std::string fields = config_field_differences(mine.config, theirs.config, who);
    note(fields.empty() ? who + " has session configuration \"" + theirs.config + "\", this party \"" + mine.config + "\""
                        : "the session configuration differs: " + fields);
  }
  return out;
}

}  // namespace

void run_session_handshake(net::Mesh& mesh, const SessionDescription& mine) {
  net::PhaseScope setup(mesh.stats(), "setup");
  const std::string text = to_json(mine).dump();
  const net::Bytes frame(text.begin(), text.end());
  std::vector<net::Outgoing> out;
  std::vector<int> peers;
  for (int p = 0; p < mesh.size(); ++p)
    if (p != mesh.self()) {
      out.push_back({p, frame});
      peers.push_back(p);
    }
  const auto received = mesh.exchange(out, peers);
  std::string problems;
  for (std::size_t i = 0; i < peers.size(); ++i) {
    const std::string d = differences(mine, from_frame(received[i], peers[i]), peers[i]);
    if (!d.empty()) problems += (problems.empty() ? "" : "; ") + d;
  }
  if (!problems.empty())
    throw SessionMismatch("session handshake failed at party " + std::to_string(mesh.self()) + ": " + problems);
}

}  // namespace protocols
