// `mpcache eval`: plaintext quality of every KV-cache policy against the full cache on a real model
// and real text (perplexity, needle retrieval, greedy agreement), written as JSON, CSV and Markdown.
#pragma once

#include <CLI/CLI.hpp>

namespace parties {
void add_eval_command(CLI::App& app);
}
