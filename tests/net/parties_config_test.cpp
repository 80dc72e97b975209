#include "net/parties_config.hpp"
#include "tests/support/party_harness.hpp"

#include <gtest/gtest.h>

#include <fstream>

using net::ConfigError;
using net::PartiesConfig;

namespace {

class PartiesConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"ca.crt", "party0.crt", "party0.key", "party1.crt", "party1.key"}) write(name, "x");
  }

  std::string write(const std::string& name, const std::string& text) {
    const std::string path = (dir_.path() / name).string();
    std::ofstream(path) << text;
    return path;
  }

  // Loads `text` as a parties file and returns the error message (or "" when it loads).
  std::string load_error(const std::string& text) {
    const std::string path = write("parties.json", text);
    try {
      PartiesConfig::load(path);
      return "";
    } catch (const ConfigError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(path), std::string::npos) << "the message must name the file: " << message;
      return message;
    }
  }

  static std::string party(int id, int port = 47000, const std::string& extra = "") {
    return R"({"id": )" + std::to_string(id) + R"(, "host": "127.0.0.1", "port": )" + std::to_string(port) +
           R"(, "cert": "party)" + std::to_string(id) + R"(.crt", "key": "party)" + std::to_string(id) + R"(.key")" +
           extra + "}";
  }

  static std::string file(const std::string& parties, const std::string& ca = R"("ca": "ca.crt", )") {
    return "{" + ca + R"("parties": [)" + parties + "]}";
  }

  test_support::TempDir dir_;
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_F(PartiesConfigTest, LoadsAndResolvesPathsAgainstTheFilesFolder) {
  const std::string path = write("parties.json", file(party(1, 47001) + "," + party(0, 47000)));
  const PartiesConfig cfg = PartiesConfig::load(path);
  ASSERT_EQ(cfg.size(), 2);
  EXPECT_EQ(cfg.party(0).port, 47000);
  EXPECT_EQ(cfg.party(1).port, 47001);
  EXPECT_EQ(cfg.party(1).host, "127.0.0.1");
  EXPECT_EQ(cfg.ca, (dir_.path() / "ca.crt").string());
  EXPECT_EQ(cfg.party(1).key, (dir_.path() / "party1.key").string());
  EXPECT_NO_THROW(cfg.check_files_for(0));
}

TEST_F(PartiesConfigTest, SaveThenLoadRoundTripsWithRelativePaths) {
  const PartiesConfig cfg = PartiesConfig::load(write("parties.json", file(party(0) + "," + party(1, 47001))));
  const std::string copy = (dir_.path() / "copy.json").string();
  cfg.save(copy);
  std::ifstream in(copy);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(contains(text, "\"party1.key\"")) << text;
  EXPECT_FALSE(contains(text, dir_.path().string())) << text;
  const PartiesConfig again = PartiesConfig::load(copy);
  EXPECT_EQ(again.ca, cfg.ca);
  EXPECT_EQ(again.party(1).cert, cfg.party(1).cert);
  EXPECT_EQ(again.party(1).port, cfg.party(1).port);
}

TEST_F(PartiesConfigTest, MissingFile) {
  const std::string path = (dir_.path() / "absent.json").string();
  try {
    PartiesConfig::load(path);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_TRUE(contains(e.what(), path)) << e.what();
    EXPECT_TRUE(contains(e.what(), "no such file")) << e.what();
  }
}

TEST_F(PartiesConfigTest, BadJson) { EXPECT_TRUE(contains(load_error("{\"parties\": [ "), "invalid JSON")); }

TEST_F(PartiesConfigTest, TopLevelNotAnObject) { EXPECT_TRUE(contains(load_error("[1, 2]"), "JSON object")); }

TEST_F(PartiesConfigTest, MissingCa) { EXPECT_TRUE(contains(load_error(file(party(0) + "," + party(1), "")), "\"ca\"")); }

TEST_F(PartiesConfigTest, MissingParties) { EXPECT_TRUE(contains(load_error(R"({"ca": "ca.crt"})"), "\"parties\"")); }

TEST_F(PartiesConfigTest, TooFewParties) { EXPECT_TRUE(contains(load_error(file(party(0))), "at least two")); }

TEST_F(PartiesConfigTest, MissingField) {
  const std::string no_host = R"({"id": 1, "port": 47001, "cert": "party1.crt", "key": "party1.key"})";
  const std::string message = load_error(file(party(0) + "," + no_host));
  EXPECT_TRUE(contains(message, "parties[1]")) << message;
  EXPECT_TRUE(contains(message, "\"host\"")) << message;
}

TEST_F(PartiesConfigTest, MistypedField) {
  const std::string text_port = R"({"id": 1, "host": "h", "port": "47001", "cert": "party1.crt", "key": "party1.key"})";
  EXPECT_TRUE(contains(load_error(file(party(0) + "," + text_port)), "\"port\" must be an integer"));
}

TEST_F(PartiesConfigTest, DuplicateId) {
  EXPECT_TRUE(contains(load_error(file(party(0) + "," + party(1) + "," + party(1, 47002))), "duplicate party id 1"));
}

TEST_F(PartiesConfigTest, IdsNotContiguousFromZero) {
  EXPECT_TRUE(contains(load_error(file(party(0) + "," + party(2))), "ids must be exactly 0..1"));
  EXPECT_TRUE(contains(load_error(file(party(1) + "," + party(2))), "id 0 is missing"));
}

TEST_F(PartiesConfigTest, NegativeId) { EXPECT_TRUE(contains(load_error(file(party(-1) + "," + party(0))), "out of range")); }

TEST_F(PartiesConfigTest, PortOutOfRange) {
  EXPECT_TRUE(contains(load_error(file(party(0, 0) + "," + party(1))), "port 0 is out of range"));
  EXPECT_TRUE(contains(load_error(file(party(0, 65536) + "," + party(1))), "port 65536 is out of range"));
}

// Found by fuzzing: numbers that do not fit the field's type must be ConfigErrors naming the file,
// whether they overflow int64 (parsed as unsigned or as a double) or even a double (1e400).
TEST_F(PartiesConfigTest, NumbersTooLargeForTheirFieldAreConfigErrors) {
  for (const std::string port : {"99999999999999999999", "18446744073709551615", "1e400", "1e30", "65536.0"}) {
    const std::string entry = R"({"id": 0, "host": "127.0.0.1", "port": )" + port +
                              R"(, "cert": "party0.crt", "key": "party0.key"})";
    const std::string message = load_error(file(entry + "," + party(1)));
    EXPECT_FALSE(message.empty()) << "port " << port << " was accepted";
    EXPECT_TRUE(contains(message, "port") || contains(message, "invalid JSON")) << message;
  }
  const std::string huge_id = R"({"id": 99999999999999999999, "host": "h", "port": 47000, "cert": "party0.crt", "key": "party0.key"})";
  EXPECT_FALSE(load_error(file(huge_id + "," + party(1))).empty());
}

TEST_F(PartiesConfigTest, TheFuzzRegressionInputIsAConfigError) {
  // The bytes of tests/fuzz/regressions/parties_config/number_overflow_in_json: an exponent that
  // overflows a double, followed by garbage.
  EXPECT_TRUE(contains(load_error("100e065536\"c[\""), "invalid JSON"));
}

TEST_F(PartiesConfigTest, MissingCaFile) {
  EXPECT_TRUE(contains(load_error(file(party(0) + "," + party(1), R"("ca": "nope.crt", )")), "nope.crt"));
}

TEST_F(PartiesConfigTest, MissingCertOrKeyFileIsReportedForThePartyThatNeedsIt) {
  std::filesystem::remove(dir_.path() / "party1.crt");
  const PartiesConfig cfg = PartiesConfig::load(write("parties.json", file(party(0) + "," + party(1))));
  EXPECT_NO_THROW(cfg.check_files_for(0));  // party 0 never needs party 1's certificate
  try {
    cfg.check_files_for(1);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_TRUE(contains(e.what(), "certificate of party 1")) << e.what();
    EXPECT_TRUE(contains(e.what(), "party1.crt")) << e.what();
    EXPECT_TRUE(contains(e.what(), "parties.json")) << e.what();
  }
}

TEST_F(PartiesConfigTest, UnknownPartyId) {
  const PartiesConfig cfg = PartiesConfig::load(write("parties.json", file(party(0) + "," + party(1))));
  EXPECT_THROW(cfg.party(2), ConfigError);
  EXPECT_THROW(cfg.party(-1), ConfigError);
}
