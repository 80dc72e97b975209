#include "model/half_float.hpp"
#include "model/safetensors.hpp"

#include "test_paths.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace {

using model::DType;
using model::SafetensorsFile;
using nlohmann::json;

std::vector<std::uint8_t> file_from(const std::string& header, std::size_t data_bytes) {
  std::vector<std::uint8_t> out(8);
  for (int i = 0; i < 8; ++i) out[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(header.size()) >> (8 * i));
  out.insert(out.end(), header.begin(), header.end());
  out.resize(out.size() + data_bytes, 0);
  return out;
}

// Expects parse() to fail with a message containing every fragment.
void expect_rejected(const std::vector<std::uint8_t>& bytes, std::vector<std::string> fragments) {
  try {
    SafetensorsFile::parse(bytes, "bad.safetensors");
    FAIL() << "malformed file accepted";
  } catch (const std::invalid_argument& e) {
    fragments.push_back("bad.safetensors");
    for (const auto& f : fragments) EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what();
  }
}

TEST(HalfFloat, ConvertsKnownValues) {
  EXPECT_EQ(model::float_to_half(1.0f), 0x3C00);
  EXPECT_EQ(model::float_to_half(-2.0f), 0xC000);
  EXPECT_EQ(model::float_to_half(65504.0f), 0x7BFF);
  EXPECT_EQ(model::float_to_half(65520.0f), 0x7C00);  // rounds up past the largest half
  EXPECT_EQ(model::float_to_half(5.9604645e-8f), 0x0001);  // smallest subnormal
  EXPECT_EQ(model::float_to_half(1.0f + 1.0f / 2048), 0x3C00);  // tie rounds to even
  EXPECT_EQ(model::float_to_half(1.0f + 3.0f / 2048), 0x3C02);
  EXPECT_FLOAT_EQ(model::half_to_float(0x3555), 0.333251953125f);
  EXPECT_FLOAT_EQ(model::half_to_float(0x0001), 5.9604645e-8f);
  EXPECT_TRUE(std::isinf(model::half_to_float(0xFC00)));
  EXPECT_TRUE(std::isnan(model::half_to_float(0x7E00)));
  EXPECT_EQ(model::float_to_bfloat16(1.0f), 0x3F80);
  EXPECT_FLOAT_EQ(model::bfloat16_to_float(0x4049), 3.140625f);
  for (std::uint32_t bits = 0; bits < 0x7C00; bits += 7)  // every finite half survives a round trip
    ASSERT_EQ(model::float_to_half(model::half_to_float(static_cast<std::uint16_t>(bits))), bits);
}

TEST(Safetensors, RoundTripsEveryDtype) {
  mpc::FloatMatrix m(2, 3);
  m << 1.0, -2.5, 0.125, 3.0, 1024.0, -0.0625;
  mpc::FloatMatrix v(1, 3);
  v << 0.5, 0.25, -4.0;
  for (DType dtype : {DType::F32, DType::F16, DType::BF16}) {
    const auto bytes = model::serialize_safetensors(
        {model::tensor_from_matrix("w", m), model::tensor_from_matrix("b", v, true)}, dtype, {{"format", "pt"}});
    const SafetensorsFile file = SafetensorsFile::parse(bytes, "mem");
    EXPECT_EQ(file.info("w").shape, (std::vector<std::int64_t>{2, 3}));
    EXPECT_EQ(file.info("b").shape, (std::vector<std::int64_t>{3}));
    EXPECT_EQ(file.info("w").dtype, dtype);
    EXPECT_EQ(file.metadata().at("format"), "pt");
    EXPECT_EQ(file.matrix("w"), m) << model::to_string(dtype);  // values chosen exact in every dtype
    EXPECT_EQ(file.matrix("b"), v);
  }
}

TEST(Safetensors, OpensFileFromDisk) {
  const auto path = model_test::temp_dir("safetensors") / "t.safetensors";
  mpc::FloatMatrix m = mpc::FloatMatrix::Constant(4, 5, 0.75);
  model::write_safetensors(path, {model::tensor_from_matrix("x", m)}, DType::F16);
  const SafetensorsFile file = SafetensorsFile::open(path);
  EXPECT_EQ(file.names(), std::vector<std::string>{"x"});
  EXPECT_EQ(file.matrix("x"), m);
  EXPECT_THROW(file.info("missing"), std::out_of_range);
  EXPECT_THROW(SafetensorsFile::open(path.parent_path() / "absent.safetensors"), std::runtime_error);
}

TEST(Safetensors, RejectsShortAndTruncatedFiles) {
  expect_rejected({1, 2, 3}, {"shorter than"});
  const auto good = model::serialize_safetensors({model::tensor_from_matrix("w", mpc::FloatMatrix::Ones(2, 2))}, DType::F32);
  std::vector<std::uint8_t> truncated(good.begin(), good.end() - 3);
  expect_rejected(truncated, {"'w'", "truncated"});
  std::vector<std::uint8_t> header_only(good.begin(), good.begin() + 20);
  expect_rejected(header_only, {"header length", "exceeds"});
  std::vector<std::uint8_t> huge = good;
  huge[7] = 0x10;  // header length ~ 2^60
  expect_rejected(huge, {"implausibly large"});
}

TEST(Safetensors, RejectsMalformedHeaders) {
  expect_rejected(file_from("{not json", 0), {"not valid JSON"});
  expect_rejected(file_from("[1, 2]", 0), {"JSON object"});
  expect_rejected(file_from(R"({"t": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}})", 8), {"'t'", "unsupported dtype 'I64'"});
  expect_rejected(file_from(R"({"t": {"shape": [1], "data_offsets": [0, 4]}})", 4), {"'t'", "dtype"});
  expect_rejected(file_from(R"({"t": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", 4), {"'t'", "non-negative"});
  expect_rejected(file_from(R"({"t": {"dtype": "F32", "shape": [2], "data_offsets": [0]}})", 8), {"'t'", "data_offsets"});
  expect_rejected(file_from(R"({"t": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}})", 8), {"'t'", "end before begin"});
  expect_rejected(file_from(R"({"t": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", 8), {"'t'", "12 bytes"});
  expect_rejected(file_from(R"({"t": 5})", 0), {"'t'", "object"});
  expect_rejected(file_from(R"({"__metadata__": {"a": 1}})", 0), {"__metadata__"});
}

// Found by fuzzing: a dimension of 2^64 - 1 used to wrap to -1 when stored as int64 and slip past
// the size checks. Every dimension from 2^63 up must be refused by name, before any size arithmetic.
TEST(Safetensors, RejectsShapeDimensionsOfTwoToTheSixtyThreeAndAbove) {
  for (const std::string dim : {"9223372036854775808", "18446744073709551615"}) {
    const std::string header = R"({"t": {"dtype": "F32", "shape": [0, )" + dim + R"(], "data_offsets": [0, 0]}})";
    expect_rejected(file_from(header, 0), {"'t'", "below 2^63"});
  }
  // The largest int64 dimension is representable, so it is refused by the layout check instead.
  const std::string largest = R"({"t": {"dtype": "F32", "shape": [1, 9223372036854775807], "data_offsets": [0, 0]}})";
  expect_rejected(file_from(largest, 0), {"'t'"});
}

TEST(Safetensors, RejectsTheFuzzRegressionInput) {
  const std::filesystem::path input =
      std::filesystem::path(MPCACHE_SOURCE_DIR) / "tests/fuzz/regressions/safetensors/shape_dim_above_int64_max";
  std::ifstream in(input, std::ios::binary);
  ASSERT_TRUE(in) << "missing regression input " << input;
  const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  expect_rejected(bytes, {"'t'", "below 2^63"});
}

TEST(Safetensors, RejectsBadLayouts) {
  const std::string two = R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                              "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})";
  expect_rejected(file_from(two, 12), {"'b'", "overlaps"});
  const std::string gap = R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                              "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}})";
  expect_rejected(file_from(gap, 12), {"'b'", "gap"});
  const std::string one = R"({"a": {"dtype": "F16", "shape": [2, 2], "data_offsets": [0, 8]}})";
  expect_rejected(file_from(one, 12), {"4 bytes of trailing data"});
  expect_rejected(file_from(one, 6), {"'a'", "truncated"});
  EXPECT_NO_THROW(SafetensorsFile::parse(file_from(one, 8), "ok"));
}

TEST(Safetensors, MatrixNeedsOneOrTwoDimensions) {
  const auto bytes = model::serialize_safetensors({{"cube", {2, 2, 2}, std::vector<float>(8, 1.0f)}}, DType::F32);
  const SafetensorsFile file = SafetensorsFile::parse(bytes, "mem");
  EXPECT_EQ(file.values("cube").size(), 8u);
  EXPECT_THROW(file.matrix("cube"), std::invalid_argument);
  EXPECT_THROW(model::serialize_safetensors({{"x", {3}, std::vector<float>(2)}}, DType::F32), std::invalid_argument);
}

}  // namespace
