// The OpenSSL BIO under every TLS channel: a non-blocking socket with a receive buffer and a send
// buffer. TLS records are at most 16 KiB and OpenSSL reads each in two pieces (header, body), so
// without buffering a 64 MiB frame would cost some 12,000 syscalls; batching them into 256 KiB
// transfers cuts the kernel's per-call and per-segment overhead. Sends use MSG_NOSIGNAL, so a peer
// that vanishes turns into an error on the write instead of a SIGPIPE that kills the process.
#pragma once

#include <openssl/bio.h>

#include <cstddef>

namespace net {

// A new BIO on `fd` (not owned: the socket object closes it). Returns nullptr on failure.
// Buffered output leaves only on BIO_flush() or when the send buffer is full.
BIO* new_socket_bio(int fd);

// How many bytes a write can add to the output buffer of a BIO made by new_socket_bio() without
// touching the socket, so that it cannot fail or ask for a retry. Compacts the buffer first.
std::size_t buffered_output_room(BIO* bio);

}  // namespace net
