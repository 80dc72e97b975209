// Assertions shared by the network tests.
#pragma once

#include "net/mesh.hpp"
#include "tests/support/party_harness.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

namespace net_test {

// Expects `error` to be a net::NetError whose message contains every fragment.
inline void expect_net_error(const std::exception_ptr& error, std::initializer_list<std::string> fragments) {
  ASSERT_TRUE(error) << "expected a NetError, but the party succeeded";
  try {
    std::rethrow_exception(error);
  } catch (const net::NetError& e) {
    const std::string message = e.what();
    for (const auto& fragment : fragments) EXPECT_NE(message.find(fragment), std::string::npos)
        << "message lacks '" << fragment << "': " << message;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected a NetError, got: " << e.what();
  }
}

inline net::MeshOptions fast_options(int connect_ms = 5000, int io_ms = 5000) {
  net::MeshOptions opts;
  opts.connect_timeout = std::chrono::milliseconds(connect_ms);
  opts.io_timeout = std::chrono::milliseconds(io_ms);
  return opts;
}

}  // namespace net_test
