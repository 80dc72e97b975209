// This process's peak resident memory, as every party result and summary reports it.
#pragma once

#include <cstdint>

namespace parties {

// VmHWM of /proc/self/status in bytes (the peak resident set so far); 0 where the kernel does not
// report it.
std::uint64_t peak_rss_bytes();

}  // namespace parties
