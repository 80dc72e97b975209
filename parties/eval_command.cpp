#include "parties/eval_command.hpp"

#include "parties/eval_flags.hpp"
#include "eval/eval_report.hpp"
#include "eval/evaluation.hpp"
#include "eval/progress.hpp"
#include "model/tokenizer.hpp"
#include "model/weights.hpp"

#include <iostream>
#include <memory>

namespace parties {

namespace {

void run_eval(const eval::EvalOptions& options) {
  eval::validate_options(options);
  const model::TransformerWeights weights = model::load_weights(options.model_dir);
  eval::validate_for_model(options, weights.config);
  const model::Tokenizer tokenizer = model::Tokenizer::load(options.model_dir);
  const eval::TextCorpus corpus = eval::load_corpus(options.text_files, tokenizer);
  if (!options.quiet)
    std::cerr << "[eval] model " << options.model_dir.string() << ", " << corpus.size() << " tokens of text"
              << std::endl;
  const eval::EvalInputs inputs{weights, tokenizer, corpus, options.model_dir.string()};
  const eval::EvalReport report = eval::run_evaluation(options, inputs, options.quiet ? nullptr : &std::cerr);
  eval::write_outputs(report, &tokenizer);
  eval::write_markdown(report, std::cout);
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto options = std::make_shared<eval::EvalOptions>();
  auto* cmd = app.add_subcommand(
      "eval", "plaintext quality of the KV-cache policies vs the full cache: perplexity, needle retrieval, "
              "greedy agreement");
  add_eval_flags(*cmd, *options);
  cmd->callback([options] { run_eval(*options); });
}

}  // namespace parties
