// Internal: compresses an open file into a new .zst file with libzstd's
// streaming API (constant memory, any file size). Only compiled when Hydra is
// built with HYDRA_WITH_ZSTD.
#pragma once

#if HYDRA_WITH_ZSTD

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "fd_io.hpp"

namespace hydra::detail {

// Reads `in_fd` from its current offset to the end and writes a complete zstd
// frame to `out_path` (created or truncated, mode 0644). Returns an empty
// string on success, else what went wrong; on failure `out_path` may hold a
// partial file that the caller removes.
inline std::string zstd_compress_file(int in_fd, const std::string& out_path, int level = 3) {
  struct ContextDeleter {
    void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
  };
  std::unique_ptr<ZSTD_CCtx, ContextDeleter> context(ZSTD_createCCtx());
  if (!context) return "cannot create a zstd context";
  ZSTD_CCtx_setParameter(context.get(), ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(context.get(), ZSTD_c_checksumFlag, 1);

  int out_fd = -1;
  do {
    out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  } while (out_fd < 0 && errno == EINTR);
  if (out_fd < 0) return "cannot create '" + out_path + "': " + errno_text(errno);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{out_fd};

  std::vector<char> in(ZSTD_CStreamInSize());
  std::vector<char> out(ZSTD_CStreamOutSize());
  bool last = false;
  while (!last) {
    ssize_t got = 0;
    do {
      got = ::read(in_fd, in.data(), in.size());
    } while (got < 0 && errno == EINTR);
    if (got < 0) return "read failed: " + errno_text(errno);
    last = got == 0;
    ZSTD_inBuffer input{in.data(), static_cast<std::size_t>(got), 0};
    const ZSTD_EndDirective mode = last ? ZSTD_e_end : ZSTD_e_continue;
    bool done = false;
    while (!done) {
      ZSTD_outBuffer output{out.data(), out.size(), 0};
      const std::size_t remaining = ZSTD_compressStream2(context.get(), &output, &input, mode);
      if (ZSTD_isError(remaining)) return std::string("zstd: ") + ZSTD_getErrorName(remaining);
      const WriteResult written =
          write_all(out_fd, std::string_view(out.data(), output.pos), std::chrono::milliseconds(0));
      if (written.error != 0) {
        return "write to '" + out_path + "' failed: " + errno_text(written.error);
      }
      done = last ? remaining == 0 : input.pos == input.size;
    }
  }
  if (::fsync(out_fd) != 0) return "fsync of '" + out_path + "' failed: " + errno_text(errno);
  return {};
}

}  // namespace hydra::detail

#endif  // HYDRA_WITH_ZSTD
