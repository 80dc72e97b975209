// `mpcache bench-decode`: the long-context decode benchmark on this machine. For each protocol it
// runs the three parties of `--job decode-bench` over TLS, then writes the per-cache-length table
// (median step latency, online and offline bytes, rounds, attention and softmax shares, plaintext
// step time and the secure/plaintext ratio) and the per-operator-class profile as CSV, JSON and
// Markdown.
#pragma once

#include <CLI/CLI.hpp>

namespace parties {

void add_bench_decode_command(CLI::App& app);

}  // namespace parties
