#include "sync/wire.hpp"

#include <zlib.h>

namespace fulfil::sync {
namespace {
constexpr int kGzipWindow = 15 + 16;  // zlib: +16 selects the gzip wrapper
}

Expected<std::string, CodecError> gzip(std::string_view plain) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, kGzipWindow, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK)
    return unexpected(CodecError{"deflateInit2 failed"});
  std::string out(deflateBound(&z, static_cast<uLong>(plain.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  z.avail_in = static_cast<uInt>(plain.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return unexpected(CodecError{"deflate did not finish"});
  return out;
}

Expected<std::string, CodecError> gunzip(std::string_view compressed, std::size_t max_bytes) {
  z_stream z{};
  if (inflateInit2(&z, kGzipWindow) != Z_OK) return unexpected(CodecError{"inflateInit2 failed"});
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  z.avail_in = static_cast<uInt>(compressed.size());
  std::string out;
  char chunk[16384];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof chunk;
    rc = inflate(&z, Z_NO_FLUSH);
    // With a fresh output buffer, "no progress possible" means the input ran out.
    if (rc == Z_BUF_ERROR) {
      inflateEnd(&z);
      return unexpected(CodecError{"gzip data is truncated"});
    }
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&z);
      return unexpected(CodecError{std::string("corrupt gzip data: ") + (z.msg ? z.msg : "")});
    }
    out.append(chunk, sizeof chunk - z.avail_out);
    if (out.size() > max_bytes) {
      inflateEnd(&z);
      return unexpected(
          CodecError{"gzip data inflates beyond " + std::to_string(max_bytes) + " bytes"});
    }
    if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
      inflateEnd(&z);
      return unexpected(CodecError{"gzip data is truncated"});
    }
  }
  inflateEnd(&z);
  return out;
}

}  // namespace fulfil::sync
