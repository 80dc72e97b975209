// The flags of `mpcache eval`.
#pragma once

#include "eval/eval_options.hpp"

namespace CLI {
class App;
}

namespace parties {

// Registers every option (and every policy hyperparameter) on `app`, bound to `options`.
void add_eval_flags(CLI::App& app, eval::EvalOptions& options);

}  // namespace parties
