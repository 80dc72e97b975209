#include "parties/bench_decode_command.hpp"

#include "parties/cli_options.hpp"
#include "parties/decode_bench_flags.hpp"
#include "parties/local_parties.hpp"
#include "parties/link_projection.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <functional>
#include <memory>
#include <set>

#include <unistd.h>

namespace parties {

namespace fs = std::filesystem;

namespace {

struct BenchDecodeOptions {
  std::vector<std::string> protocols = {"2pc", "3pc"};
  DecodeBenchOptions bench;
  std::string out_dir = "bench/results/decode";
  std::string work_dir;
  std::vector<std::string> policy_args;  // policy flags as given, passed on to the parties
  int base_port = 0;
  double timeout_s = 4 * 3600;
  std::vector<std::string> networks = {"loopback"};  // measured, one run of every protocol each
  std::vector<std::string> projected_networks;       // projected from the loopback rows
  std::string loopback_basis;  // decode_steps.json of an earlier run whose loopback rows serve as projection basis
};

// The measured loopback rows of an earlier run's decode_steps.json.
std::vector<nlohmann::json> loopback_rows_of(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read the loopback basis " + path);
  const nlohmann::json earlier = nlohmann::json::parse(in);
  std::vector<nlohmann::json> rows;
  for (const auto& r : earlier.at("rows"))
    if (r.value("measured", false) && r.value("network", "") == "loopback") rows.push_back(r);
  if (rows.empty()) throw std::runtime_error(path + " has no measured loopback rows");
  return rows;
}

constexpr const char* kAttentionPrefix = "attention.";
constexpr const char* kSoftmaxClass = "attention.softmax";
constexpr const char* kSelectionPrefix = "selection.";  // a policy's scoring, top-k, gathering, boxes
constexpr const char* kPrivatePrefillPrefix = "private_prefill";
constexpr const char* kPrefillPhases[] = {"forward", "eviction", "boxes"};

std::string absolute(const std::string& path) { return path.empty() ? path : fs::absolute(path).string(); }

std::vector<std::string> job_args(const BenchDecodeOptions& o, const std::string& network) {
  std::string lengths;
  for (int n : o.bench.cache_lengths) lengths += (lengths.empty() ? "" : ",") + std::to_string(n);
  std::vector<std::string> args = {"--job", "decode-bench", "--shape", o.bench.shape, "--cache-lengths", lengths,
                                   "--steps", std::to_string(o.bench.steps), "--weights-seed",
                                   std::to_string(o.bench.weights_seed), "--text", absolute(o.bench.text_file),
                                   "--tokenizer", absolute(o.bench.tokenizer_dir),
                                   "--network", network,
                                   "--nonlinear", protocols::to_string(o.bench.comparisons),
                                   "--prefill", o.bench.private_prefill ? "private" : "plaintext"};
  if (!o.bench.model_dir.empty()) args.insert(args.end(), {"--model", absolute(o.bench.model_dir)});
  std::string policies;
  for (const auto& p : o.bench.policies) policies += (policies.empty() ? "" : ",") + p;
  args.insert(args.end(), {"--policies", policies});
  args.insert(args.end(), o.policy_args.begin(), o.policy_args.end());
  return args;
}

// Per-step figures of every party for one (cache length, policy) run: parties[p]["result"]["lengths"][i]["steps"].
const nlohmann::json& steps_of(const nlohmann::json& party, std::size_t length_index) {
  return party["result"]["lengths"][length_index]["steps"];
}

template <typename F>
double median_over_steps(std::size_t steps, F&& value_of_step) {
  std::vector<double> v;
  for (std::size_t s = 0; s < steps; ++s) v.push_back(value_of_step(s));
  return median(v);
}

double class_seconds(const nlohmann::json& step, const std::string& prefix) {
  double total = 0;
  for (const auto& [name, f] : step["profile"].items())
    if (name.rfind(prefix, 0) == 0) total += f["seconds"].get<double>();
  return total;
}

std::uint64_t class_bytes(const std::vector<nlohmann::json>& parties, std::size_t li, std::size_t s,
                          const std::string& prefix, const char* field) {
  std::uint64_t total = 0;
  for (const auto& party : parties)
    for (const auto& [name, f] : steps_of(party, li)[s]["profile"].items())
      if (name.rfind(prefix, 0) == 0) total += f[field].get<std::uint64_t>();
  return total;
}

std::uint64_t step_bytes(const std::vector<nlohmann::json>& parties, std::size_t li, std::size_t s, const char* field) {
  std::uint64_t total = 0;
  for (const auto& party : parties) total += steps_of(party, li)[s][field].get<std::uint64_t>();
  return total;
}

// Median per operator class over the steps: P1's time and rounds, bytes summed over the parties.
nlohmann::json class_profile(const std::vector<nlohmann::json>& parties, std::size_t li) {
  const std::size_t steps = steps_of(parties[1], li).size();
  std::set<std::string> names;
  for (const auto& party : parties)
    for (std::size_t s = 0; s < steps; ++s)
      for (const auto& [name, f] : steps_of(party, li)[s]["profile"].items()) names.insert(name);
  nlohmann::json out = nlohmann::json::object();
  for (const auto& name : names) {
    auto p1 = [&](std::size_t s, const char* field) {
      const auto& prof = steps_of(parties[1], li)[s]["profile"];
      return prof.contains(name) ? prof[name][field].get<double>() : 0.0;
    };
    out[name] = {
        {"seconds", median_over_steps(steps, [&](std::size_t s) { return p1(s, "seconds"); })},
        {"rounds", median_over_steps(steps, [&](std::size_t s) { return p1(s, "rounds"); })},
        {"online_bytes", median_over_steps(steps, [&](std::size_t s) { return double(class_bytes(parties, li, s, name, "online_bytes_sent")); })},
        {"offline_bytes", median_over_steps(steps, [&](std::size_t s) { return double(class_bytes(parties, li, s, name, "offline_bytes_sent")); })}};
  }
  return out;
}

std::size_t matching_tokens(const nlohmann::json& p0_length, const nlohmann::json& p1_length) {
  const auto plain = p0_length["plaintext_tokens"].get<std::vector<int>>();
  const auto secure = p1_length["secure_tokens"].get<std::vector<int>>();
  std::size_t same = 0;
  for (std::size_t i = 0; i < std::min(plain.size(), secure.size()); ++i) same += plain[i] == secure[i];
  return same;
}

// Ids of the parties that compute on shares (not the 2PC dealer).
std::vector<std::size_t> computing_parties(const std::string& protocol) {
  return protocol == "2pc" ? std::vector<std::size_t>{0, 1} : std::vector<std::size_t>{0, 1, 2};
}

// Largest of the wire bytes party p sent to each peer in `field` (a map peer -> bytes), over the parties.
double busiest_direction(const std::vector<nlohmann::json>& parties, const std::vector<std::size_t>& senders,
                         std::size_t li, std::size_t s, const char* field) {
  double busiest = 0;
  for (std::size_t p : senders)
    for (const auto& [peer, bytes] : steps_of(parties[p], li)[s][field].items())
      busiest = std::max(busiest, bytes.get<double>());
  return busiest;
}

// The link figures of one row: compute estimate, busiest online and dealer link directions, and
// the time P1 waited for the dealer's stream (medians over steps; see link_projection.hpp).
nlohmann::json link_figures(const std::string& protocol, const std::vector<nlohmann::json>& parties, std::size_t li) {
  const std::size_t steps = steps_of(parties[1], li).size();
  const auto computing = computing_parties(protocol);
  auto compute = [&](std::size_t s) {
    double longest = 0;
    for (std::size_t p : computing) {
      const auto& step = steps_of(parties[p], li)[s];
      longest = std::max(longest, step["seconds"].get<double>() - step["wait_seconds"].get<double>());
    }
    return longest;
  };
  const std::vector<std::size_t> dealer = protocol == "2pc" ? std::vector<std::size_t>{2} : std::vector<std::size_t>{};
  std::vector<double> dealer_waits;
  for (std::size_t s = 0; s < steps; ++s) dealer_waits.push_back(steps_of(parties[1], li)[s]["offline_wait_seconds"].get<double>());
  return {{"compute_seconds", median_over_steps(steps, compute)},
          {"busiest_link_wire_bytes", median_over_steps(steps, [&](std::size_t s) { return busiest_direction(parties, computing, li, s, "online_wire_bytes_to"); })},
          {"dealer_link_wire_bytes", median_over_steps(steps, [&](std::size_t s) { return busiest_direction(parties, dealer, li, s, "offline_wire_bytes_to"); })},
          {"dealer_wait_seconds", median(dealer_waits)},
          {"dealer_wait_max_seconds", *std::max_element(dealer_waits.begin(), dealer_waits.end())}};
}

// A private prefill's figures (rows measured with --prefill private): time and rounds as seen by
// P1, bytes (online and dealer) summed over the parties; the whole pass and its phases.
void add_private_prefill_columns(nlohmann::json& row, const std::vector<nlohmann::json>& parties, std::size_t li) {
  const nlohmann::json& user = parties[1]["result"]["lengths"][li];
  if (!user.contains("private_prefill")) return;
  auto bytes_of = [&](const std::function<const nlohmann::json&(const nlohmann::json&)>& figures_of) {
    double total = 0;
    for (const auto& party : parties) {
      const nlohmann::json& f = figures_of(party["result"]["lengths"][li]["private_prefill"]);
      total += f["online_bytes_sent"].get<double>() + f["offline_bytes_sent"].get<double>();
    }
    return total;
  };
  auto add = [&](const std::string& prefix, const std::function<const nlohmann::json&(const nlohmann::json&)>& figures_of) {
    const nlohmann::json& mine = figures_of(user["private_prefill"]);
    row[prefix + "_seconds"] = mine["seconds"];
    row[prefix + "_rounds"] = mine["rounds"];
    row[prefix + "_bytes"] = bytes_of(figures_of);
  };
  add(kPrivatePrefillPrefix, [](const nlohmann::json& p) -> const nlohmann::json& { return p; });
  for (const char* phase : kPrefillPhases)
    add(std::string(kPrivatePrefillPrefix) + "_" + phase,
        [phase](const nlohmann::json& p) -> const nlohmann::json& { return p["phases"][phase]; });
}

// One summary row per cache length: latency and rounds as seen by P1 (the user), bytes summed
// over the parties, offline = the 2PC dealer's; medians over the timed steps.
nlohmann::json summary_row(const std::string& protocol, const std::vector<nlohmann::json>& parties, std::size_t li) {
  const nlohmann::json& user = parties[1]["result"]["lengths"][li];
  const nlohmann::json& owner = parties[0]["result"]["lengths"][li];
  const std::size_t steps = user["steps"].size();
  const auto& p1_steps = user["steps"];
  auto share = [&](std::size_t s, const std::string& prefix) {
    return class_seconds(p1_steps[s], prefix) / p1_steps[s]["seconds"].get<double>();
  };
  auto byte_share = [&](std::size_t s, const std::string& prefix) {
    const double all = double(step_bytes(parties, li, s, "online_bytes_sent") + step_bytes(parties, li, s, "offline_bytes_sent"));
    return double(class_bytes(parties, li, s, prefix, "online_bytes_sent") + class_bytes(parties, li, s, prefix, "offline_bytes_sent")) / all;
  };
  const double secure_s = median_over_steps(steps, [&](std::size_t s) { return p1_steps[s]["seconds"].get<double>(); });
  const double plain_s = median(owner["plaintext_step_seconds"].get<std::vector<double>>());
  nlohmann::json row = {{"protocol", protocol},
          {"policy", user["policy"]},
          {"cache_length", user["cache_length"]},
          {"cached_rows", user["cached_rows"]},
          {"budget_tokens", user["budget_tokens"]},
          {"steps", steps},
          {"step_seconds", secure_s},
          {"online_bytes", median_over_steps(steps, [&](std::size_t s) { return double(step_bytes(parties, li, s, "online_bytes_sent")); })},
          {"offline_bytes", median_over_steps(steps, [&](std::size_t s) { return double(step_bytes(parties, li, s, "offline_bytes_sent")); })},
          {"rounds", median_over_steps(steps, [&](std::size_t s) { return p1_steps[s]["rounds"].get<double>(); })},
          {"attention_time_share", median_over_steps(steps, [&](std::size_t s) { return share(s, kAttentionPrefix); })},
          {"softmax_time_share", median_over_steps(steps, [&](std::size_t s) { return share(s, kSoftmaxClass); })},
          {"attention_bytes_share", median_over_steps(steps, [&](std::size_t s) { return byte_share(s, kAttentionPrefix); })},
          {"softmax_bytes_share", median_over_steps(steps, [&](std::size_t s) { return byte_share(s, kSoftmaxClass); })},
          {"selection_time_share", median_over_steps(steps, [&](std::size_t s) { return share(s, kSelectionPrefix); })},
          {"selection_bytes_share", median_over_steps(steps, [&](std::size_t s) { return byte_share(s, kSelectionPrefix); })},
          {"plaintext_step_seconds", plain_s},
          {"secure_over_plaintext", secure_s / plain_s},
          {"tokens_matching_plaintext", matching_tokens(owner, user)},
          {"link", link_figures(protocol, parties, li)},
          {"profile", class_profile(parties, li)}};
  row["prefill"] = user.value("prefill", "plaintext");
  add_private_prefill_columns(row, parties, li);
  // Each party process's peak resident memory up to the end of this row (p2: the 2PC dealer or P2),
  // and the least its secret state needs (decode_bench_job.cpp: necessary_bytes).
  for (std::size_t p = 0; p < parties.size(); ++p) {
    const nlohmann::json& length = parties[p]["result"]["lengths"][li];
    row["peak_rss_bytes_p" + std::to_string(p)] = length.value("peak_rss_bytes", nlohmann::json());
    row["necessary_bytes_p" + std::to_string(p)] = length.value("necessary_bytes", nlohmann::json());
  }
  return row;
}

const char* kColumns[] = {"network", "measured", "protocol", "policy", "cache_length", "cached_rows", "budget_tokens", "steps", "step_seconds",
                          "online_bytes", "offline_bytes", "rounds", "attention_time_share", "softmax_time_share",
                          "attention_bytes_share", "softmax_bytes_share", "selection_time_share",
                          "selection_bytes_share", "plaintext_step_seconds", "secure_over_plaintext",
                          "projected_seconds", "projection_basis", "compute_seconds", "latency_term_seconds",
                          "bandwidth_term_seconds", "busiest_link_wire_bytes", "dealer_link_wire_bytes",
                          "dealer_transfer_seconds", "dealer_wait_seconds", "dealer_wait_max_seconds",
                          "peak_rss_bytes_p0", "peak_rss_bytes_p1", "peak_rss_bytes_p2",
                          "necessary_bytes_p0", "necessary_bytes_p1", "necessary_bytes_p2", "prefill",
                          "private_prefill_seconds", "private_prefill_rounds", "private_prefill_bytes",
                          "private_prefill_forward_seconds", "private_prefill_forward_rounds", "private_prefill_forward_bytes",
                          "private_prefill_eviction_seconds", "private_prefill_eviction_rounds", "private_prefill_eviction_bytes",
                          "private_prefill_boxes_seconds", "private_prefill_boxes_rounds", "private_prefill_boxes_bytes",
                          "tokens_matching_plaintext"};  // last: tests look for the token count at the line end

std::string cell(const nlohmann::json& v) {
  if (v.is_null()) return "";
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// A CSV field, quoted when it holds a separator or a quote.
std::string csv_cell(const nlohmann::json& v) {
  const std::string text = cell(v);
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

void write_csv(const fs::path& path, const std::vector<nlohmann::json>& rows) {
  std::ofstream out(path);
  for (std::size_t i = 0; i < std::size(kColumns); ++i) out << (i ? "," : "") << kColumns[i];
  out << "\n";
  for (const auto& r : rows) {
    // Rows projected from an older loopback run may lack newer columns: those cells stay empty.
    for (std::size_t i = 0; i < std::size(kColumns); ++i)
      out << (i ? "," : "") << csv_cell(r.value(kColumns[i], nlohmann::json()));
    out << "\n";
  }
}

void write_profile_csv(const fs::path& path, const std::vector<nlohmann::json>& rows) {
  std::ofstream out(path);
  out << "protocol,policy,cache_length,operator_class,seconds,online_bytes,offline_bytes,rounds\n";
  for (const auto& r : rows)
    for (const auto& [name, f] : r["profile"].items())
      out << cell(r["protocol"]) << "," << cell(r["policy"]) << "," << r["cache_length"] << "," << name << ","
          << f["seconds"] << "," << f["online_bytes"] << "," << f["offline_bytes"] << "," << f["rounds"] << "\n";
}

std::string megabytes(double bytes) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(2) << bytes / 1e6;
  return s.str();
}

std::string fixed(double v, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

std::string fixed_or_dash(const nlohmann::json& v, int digits) { return v.is_null() ? "-" : fixed(v.get<double>(), digits); }

// "P0/P1/P2": one memory figure per party, made from its peak_rss_bytes_pI and necessary_bytes_pI
// (null for a party without them: a projected row).
using MemoryFigure = std::function<std::string(const nlohmann::json& peak, const nlohmann::json& need)>;
std::string per_party(const nlohmann::json& row, const MemoryFigure& figure) {
  std::string text;
  for (int p = 0; p < 3; ++p) {
    const nlohmann::json peak = row.value("peak_rss_bytes_p" + std::to_string(p), nlohmann::json());
    const nlohmann::json need = row.value("necessary_bytes_p" + std::to_string(p), nlohmann::json());
    text += (p ? "/" : "") + figure(peak, need);
  }
  return text;
}

// Peak resident memory in MB.
std::string peak_megabytes(const nlohmann::json& row) {
  return per_party(row, [](const nlohmann::json& peak, const nlohmann::json&) {
    return peak.is_number() ? fixed(peak.get<double>() / 1e6, 0) : std::string("-");
  });
}

// Peak resident memory over the least the party's secret state needs.
std::string peak_over_necessary(const nlohmann::json& row) {
  return per_party(row, [](const nlohmann::json& peak, const nlohmann::json& need) {
    const bool known = peak.is_number() && need.is_number() && need.get<double>() > 0;
    return known ? fixed(peak.get<double>() / need.get<double>(), 2) : std::string("-");
  });
}

std::string markdown_table(const std::vector<nlohmann::json>& rows) {
  std::ostringstream t;
  t << "| network | protocol | policy | n | cached | budget | step s | projected s | dealer wait s | online MB | offline MB | "
       "rounds | attention time | softmax time | attention bytes | selection time | plaintext ms | secure/plaintext | "
       "peak MB P0/P1/P2 | peak / needed | tokens = plaintext |\n"
    << "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& r : rows)
    t << "| " << cell(r["network"]) << (r["measured"].get<bool>() ? "" : " (projected)") << " | " << cell(r["protocol"])
      << " | " << cell(r["policy"]) << " | " << r["cache_length"] << " | " << r["cached_rows"] << " | "
      << r["budget_tokens"] << " | " << fixed_or_dash(r["step_seconds"], 3) << " | "
      << fixed_or_dash(r["projected_seconds"], 3) << " | " << fixed_or_dash(r["dealer_wait_seconds"], 3) << " | "
      << megabytes(r["online_bytes"]) << " | " << megabytes(r["offline_bytes"]) << " | " << fixed(r["rounds"], 0)
      << " | " << fixed(100 * r["attention_time_share"].get<double>(), 1) << "% | "
      << fixed(100 * r["softmax_time_share"].get<double>(), 1) << "% | "
      << fixed(100 * r["attention_bytes_share"].get<double>(), 1) << "% | "
      << fixed(100 * r["selection_time_share"].get<double>(), 1) << "% | "
      << fixed(1e3 * r["plaintext_step_seconds"].get<double>(), 2) << " | "
      << fixed_or_dash(r["secure_over_plaintext"], 0) << "x | " << peak_megabytes(r) << " | " << peak_over_necessary(r) << " | "
      << r["tokens_matching_plaintext"] << "/" << r["steps"]
      << " |\n";
  return t.str();
}

std::string profile_table(const nlohmann::json& row) {
  std::ostringstream t;
  t << "| operator class | time s | online MB | offline MB | rounds |\n|---|---:|---:|---:|---:|\n";
  for (const auto& [name, f] : row["profile"].items())
    t << "| " << name << " | " << fixed(f["seconds"], 4) << " | " << megabytes(f["online_bytes"]) << " | "
      << megabytes(f["offline_bytes"]) << " | " << fixed(f["rounds"], 0) << " |\n";
  return t.str();
}

// The measured private prefills, by phase (empty when none ran).
std::string private_prefill_table(const std::vector<nlohmann::json>& rows) {
  std::ostringstream t;
  for (const auto& r : rows) {
    if (!r["measured"].get<bool>() || !r.contains("private_prefill_seconds")) continue;
    if (t.tellp() == 0)
      t << "\nPrivate prefill (the prompt pass and the policy's prompt-time work on shares), by phase: time and rounds "
           "as seen by P1, MB summed over the parties (online and dealer).\n\n"
        << "| network | protocol | policy | n | kept | total s | MB | rounds | forward s | MB | rounds | eviction s | MB | "
           "rounds | boxes s | MB | rounds |\n"
        << "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    t << "| " << cell(r["network"]) << " | " << cell(r["protocol"]) << " | " << cell(r["policy"]) << " | "
      << r["cache_length"] << " | " << r["cached_rows"];
    std::vector<std::string> prefixes = {kPrivatePrefillPrefix};
    for (const char* phase : kPrefillPhases) prefixes.push_back(std::string(kPrivatePrefillPrefix) + "_" + phase);
    for (const std::string& prefix : prefixes)
      t << " | " << fixed(r[prefix + "_seconds"].get<double>(), 1) << " | " << megabytes(r[prefix + "_bytes"].get<double>())
        << " | " << r[prefix + "_rounds"];
    t << " |\n";
  }
  return t.str();
}

void write_outputs(const BenchDecodeOptions& o, const std::vector<nlohmann::json>& rows, const nlohmann::json& meta) {
  const fs::path dir = o.out_dir;
  fs::create_directories(dir);
  write_csv(dir / "decode_steps.csv", rows);
  write_profile_csv(dir / "decode_profile.csv", rows);
  std::ofstream(dir / "decode_steps.json") << nlohmann::json{{"meta", meta}, {"rows", rows}}.dump(2) << "\n";
  std::ofstream md(dir / "decode_steps.md");
  md << "Decode step from a secret-shared cache of n tokens; model " << cell(meta["model"]) << ". "
     << cell(meta["cache_source"]) << "\n\nMedians over " << o.bench.steps
     << " steps; latency and rounds as seen by P1, bytes summed over the parties (offline = the 2PC dealer's).\n\n"
     << markdown_table(rows);
  md << private_prefill_table(rows);
  for (const auto& r : rows)
    md << "\n### Profile: " << cell(r["network"]) << (r["measured"].get<bool>() ? "" : " (projected)") << ", " << cell(r["protocol"]) << ", " << cell(r["policy"]) << ", n = " << r["cache_length"] << "\n\n"
       << profile_table(r);
}

nlohmann::json meta_of(const nlohmann::json& p0) {
  return {{"model", p0["result"]["model"]}, {"shape", p0["result"]["shape"]},
          {"cache_source", p0["result"]["cache_source"]}, {"text", p0["result"]["text"]}};
}

// Collects what every party of a running protocol has finished (their result files are rewritten
// after each (policy, n)) and rewrites the outputs whenever that grows, so a failure or a signal
// later in the run keeps every finished row.
class PartialResults {
 public:
  // `output_rows` gives what is written: the measured rows with their projections.
  PartialResults(const BenchDecodeOptions& o, std::vector<nlohmann::json>& rows, nlohmann::json& meta,
                 std::function<std::vector<nlohmann::json>()> output_rows)
      : o_(o), rows_(rows), meta_(meta), output_rows_(std::move(output_rows)) {}

  void start(const LocalPartiesRun& run, const net::LinkProfile& profile) {
    run_ = run;
    profile_ = profile;
    finished_before_ = rows_.size();
  }

  void collect() {
    std::vector<nlohmann::json> parties;
    for (const auto& name : party_names(run_.protocol)) {
      std::ifstream in(result_file(run_, name));
      const auto j = nlohmann::json::parse(in, nullptr, false);
      if (j.is_discarded() || !j.contains("result")) return;
      parties.push_back(j);
    }
    std::size_t finished = parties[0]["result"]["lengths"].size();
    for (const auto& p : parties) finished = std::min(finished, p["result"]["lengths"].size());
    if (finished_before_ + finished <= rows_.size()) return;
    rows_.resize(finished_before_);
    for (std::size_t li = 0; li < finished; ++li) {
      rows_.push_back(summary_row(run_.protocol, parties, li));
      add_link_columns(rows_.back(), profile_);
    }
    meta_ = meta_of(parties[0]);
    meta_["networks"] = o_.networks;
    meta_["projected_networks"] = o_.projected_networks;
    write_outputs(o_, output_rows_(), meta_);
  }

 private:
  const BenchDecodeOptions& o_;
  std::vector<nlohmann::json>& rows_;
  nlohmann::json& meta_;
  std::function<std::vector<nlohmann::json>()> output_rows_;
  LocalPartiesRun run_;
  net::LinkProfile profile_;
  std::size_t finished_before_ = 0;
};

// The results folder is made (and found writable) before any party starts, so that a bad --out
// fails at once rather than after the first measured row.
void prepare_out_dir(const fs::path& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error || !fs::is_directory(dir))
    throw std::invalid_argument("--out " + dir.string() + ": cannot make the results folder (" +
                                (error ? error.message() : std::string("a file of that name exists")) + ")");
  const fs::path probe = dir / ".mpcache-write-test";
  if (!std::ofstream(probe)) throw std::invalid_argument("--out " + dir.string() + ": the folder is not writable");
  fs::remove(probe, error);
}

int run_bench_decode(BenchDecodeOptions o) {
  decode_bench_session_config(o.bench);  // the parties' own checks, before any of them starts
  prepare_out_dir(o.out_dir);
  const fs::path root = o.work_dir.empty() ? fs::temp_directory_path() / ("mpcache-bench-" + std::to_string(getpid()))
                                           : fs::path(o.work_dir);
  std::vector<nlohmann::json> rows;
  nlohmann::json meta;
  const std::vector<nlohmann::json> basis =
      o.loopback_basis.empty() ? std::vector<nlohmann::json>{} : loopback_rows_of(o.loopback_basis);
  auto all_rows = [&] {
    std::vector<nlohmann::json> all = rows;
    project_rows(all, basis);
    for (const auto& network : o.projected_networks) {
      const auto projected = rows_projected_to(all, net::parse_link_profile(network));
      all.insert(all.end(), projected.begin(), projected.end());
    }
    return all;
  };
  PartialResults partial(o, rows, meta, all_rows);
  for (const auto& network : o.networks) {
    const net::LinkProfile profile = net::parse_link_profile(network);
    for (const auto& protocol : o.protocols) {
      LocalPartiesRun run;
      run.protocol = protocol;
      run.dir = root / (o.networks.size() > 1 ? network + "-" + protocol : protocol);
      run.base_port = o.base_port;
      run.timeout_s = o.timeout_s;
      run.job_args = job_args(o, network);
      run.echo_party = 0;  // P0 reports the plaintext prefill and every step
      run.on_tick = [&partial] { partial.collect(); };
      std::cout << "[" << protocol << "] network " << profile.describe() << "\n" << std::flush;
      partial.start(run, profile);
      try {
        run_local_parties(run);
      } catch (...) {
        if (!rows.empty())
          std::cerr << "the " << rows.size() << " finished (network, protocol, policy, n) rows are in " << o.out_dir
                    << "/decode_steps.{csv,json,md}\n";
        throw;
      }
      partial.collect();  // the whole run
    }
  }
  const std::vector<nlohmann::json> finished = all_rows();
  std::cout << "\nDecode step from a secret-shared cache of n tokens (" << cell(meta["cache_source"]) << ")\n\n"
            << markdown_table(finished) << "\nwritten to " << o.out_dir << "/decode_steps.{csv,json,md} and decode_profile.csv\n";
  if (o.work_dir.empty()) fs::remove_all(root);
  return 0;
}

}  // namespace

void add_bench_decode_command(CLI::App& app) {
  auto o = std::make_shared<BenchDecodeOptions>();
  auto* cmd = app.add_subcommand("bench-decode",
                                 "long-context benchmark: secure decode steps from a shared cache of n tokens, all "
                                 "parties on this machine");
  cmd->add_option("--protocol", o->protocols, "2pc and/or 3pc")->check(CLI::IsMember({"2pc", "3pc"}));
  cmd->add_option("--model", o->bench.model_dir, "a real model folder instead of --shape")->check(CLI::ExistingDirectory);
  add_decode_bench_flags(*cmd, o->bench);
  cmd->add_option("--network", o->networks,
                  std::string(kNetworkHelp) + "; several (space-separated) are measured one after the other")
      ->check(link_profile_validator())
      ->capture_default_str();
  cmd->add_option("--project", o->projected_networks,
                  "also write rows projected to these networks (space-separated) from the loopback rows (needs "
                  "loopback in --network)")
      ->check(link_profile_validator());
  cmd->add_option("--loopback-basis", o->loopback_basis,
                  "decode_steps.json of an earlier loopback run of the same points: shaped rows are projected from it")
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", o->out_dir, "folder for decode_steps.{csv,json,md} and decode_profile.csv")->capture_default_str();
  cmd->add_option("--base-port", o->base_port, "first port (default: random)")->check(Range(1024, 65000));
  cmd->add_option("--timeout", o->timeout_s, "seconds before the parties are stopped")->check(Range(1.0, 86400.0));
  cmd->add_option("--work-dir", o->work_dir, "keep certificates, logs and per-party JSON here");
  cmd->callback([o, cmd] {
    o->policy_args = given_options_in_group(*cmd, kPolicyFlagGroup);
    if (!o->projected_networks.empty() &&
        std::find(o->networks.begin(), o->networks.end(), "loopback") == o->networks.end())
      throw CLI::ValidationError("--project", "projects from loopback rows: add loopback to --network");
    if (!o->loopback_basis.empty() && !o->projected_networks.empty())
      throw CLI::ValidationError("--project", "projects only from loopback rows measured in this run");
    throw CommandExit(run_bench_decode(*o));
  });
}

}  // namespace parties
