// Writers for the evaluation results: CSV (one row per task/policy/budget/length), JSON (every
// row, every case and the settings used) and Markdown summary tables for the README.
#pragma once

#include "eval/evaluation.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>

namespace eval {

void write_csv(const std::vector<ResultRow>& rows, std::ostream& out);
// `tokenizer` (may be null) adds the decoded text of generated and expected tokens.
nlohmann::json report_to_json(const EvalReport& report, const model::Tokenizer* tokenizer);
void write_markdown(const EvalReport& report, std::ostream& out);

// Writes each output whose path is set in report.options; throws std::runtime_error naming a file
// that cannot be written.
void write_outputs(const EvalReport& report, const model::Tokenizer* tokenizer);

}  // namespace eval
