#include "net/parties_config.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace net {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string describe(const std::string& source) {
  return source.empty() ? std::string("parties config (in memory)") : "parties file '" + source + "'";
}

[[noreturn]] void fail(const std::string& source, const std::string& what) {
  throw ConfigError(describe(source) + ": " + what);
}

const json& require(const json& object, const char* field, const std::string& where, const std::string& source) {
  auto it = object.find(field);
  if (it == object.end()) fail(source, where + " is missing the field \"" + field + "\"");
  return *it;
}

std::string require_string(const json& object, const char* field, const std::string& where,
                           const std::string& source) {
  const json& value = require(object, field, where, source);
  if (!value.is_string() || value.get<std::string>().empty())
    fail(source, where + ": \"" + field + "\" must be a non-empty string");
  return value.get<std::string>();
}

std::int64_t require_integer(const json& object, const char* field, const std::string& where,
                             const std::string& source) {
  const json& value = require(object, field, where, source);
  if (!value.is_number_integer()) fail(source, where + ": \"" + field + "\" must be an integer");
  return value.get<std::int64_t>();
}

std::string resolve(const fs::path& base, const std::string& path) {
  const fs::path p(path);
  return p.is_absolute() ? p.string() : (base / p).lexically_normal().string();
}

PartyEntry parse_party(const json& item, std::size_t index, const fs::path& base, const std::string& source) {
  const std::string where = "parties[" + std::to_string(index) + "]";
  if (!item.is_object()) fail(source, where + " must be an object");
  PartyEntry entry;
  const std::int64_t id = require_integer(item, "id", where, source);
  if (id < 0 || id > 1'000'000) fail(source, where + ": id " + std::to_string(id) + " is out of range");
  entry.id = static_cast<int>(id);
  entry.host = require_string(item, "host", where, source);
  const std::int64_t port = require_integer(item, "port", where, source);
  if (port < 1 || port > 65535)
    fail(source, where + ": port " + std::to_string(port) + " is out of range 1..65535");
  entry.port = static_cast<std::uint16_t>(port);
  entry.cert = resolve(base, require_string(item, "cert", where, source));
  entry.key = resolve(base, require_string(item, "key", where, source));
  return entry;
}

void check_ids(std::vector<PartyEntry>& parties, const std::string& source) {
  std::sort(parties.begin(), parties.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  for (std::size_t i = 1; i < parties.size(); ++i)
    if (parties[i].id == parties[i - 1].id) fail(source, "duplicate party id " + std::to_string(parties[i].id));
  for (std::size_t i = 0; i < parties.size(); ++i)
    if (parties[i].id != static_cast<int>(i))
      fail(source, "party ids must be exactly 0.." + std::to_string(parties.size() - 1) + ", but id " +
                       std::to_string(i) + " is missing");
}

void require_file(const std::string& file, const std::string& what, const std::string& source) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) fail(source, what + " '" + file + "' does not exist or is not a file");
}

json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(path, "cannot open (" + std::string(fs::exists(path) ? "not readable" : "no such file") + ")");
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    // Not only parse_error: a number too large for a double (e.g. 1e999) throws out_of_range.
    fail(path, std::string("invalid JSON: ") + e.what());
  }
}

std::string stored_path(const std::string& path, const fs::path& base) {
  const fs::path relative = fs::path(path).lexically_relative(base);
  const bool inside = !relative.empty() && *relative.begin() != "..";
  return inside ? relative.string() : path;
}

}  // namespace

std::string party_common_name(int id) { return "mpcache-party-" + std::to_string(id); }

PartiesConfig PartiesConfig::load(const std::string& path) {
  const json root = read_json(path);
  if (!root.is_object()) fail(path, "the top level must be a JSON object");
  const fs::path base = fs::absolute(path).parent_path();
  PartiesConfig cfg;
  cfg.source = path;
  cfg.ca = resolve(base, require_string(root, "ca", "the top level", path));
  const json& list = require(root, "parties", "the top level", path);
  if (!list.is_array() || list.size() < 2) fail(path, "\"parties\" must be an array of at least two parties");
  for (std::size_t i = 0; i < list.size(); ++i) cfg.parties.push_back(parse_party(list[i], i, base, path));
  check_ids(cfg.parties, path);
  require_file(cfg.ca, "CA certificate", path);
  return cfg;
}

void PartiesConfig::save(const std::string& path) const {
  const fs::path base = fs::absolute(path).parent_path();
  json list = json::array();
  for (const auto& p : parties)
    list.push_back({{"id", p.id},
                    {"host", p.host},
                    {"port", p.port},
                    {"cert", stored_path(p.cert, base)},
                    {"key", stored_path(p.key, base)}});
  const json root = {{"ca", stored_path(ca, base)}, {"parties", list}};
  std::ofstream out(path, std::ios::trunc);
  if (!out) fail(path, "cannot open for writing");
  out << root.dump(2) << '\n';
  if (!out.flush()) fail(path, "write failed");
}

const PartyEntry& PartiesConfig::party(int id) const {
  // A linear search, because a config built in memory need not be sorted.
  for (const auto& entry : parties)
    if (entry.id == id) return entry;
  fail(source, "no party with id " + std::to_string(id) + " (there are " + std::to_string(size()) + ")");
}

void PartiesConfig::check_files_for(int id) const {
  const PartyEntry& entry = party(id);
  require_file(ca, "CA certificate", source);
  require_file(entry.cert, "certificate of party " + std::to_string(id), source);
  require_file(entry.key, "private key of party " + std::to_string(id), source);
}

}  // namespace net
