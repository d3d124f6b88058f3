// Internal helpers shared by the writers that rotate a file (the rotating file
// sink, the protect module's audit chain): finding the rotated files beside a
// path with one read of its directory, whatever their number may go up to,
// and naming what a path is when it is not a regular file.
#pragma once

#include <sys/stat.h>

#include <charconv>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace hydra::detail {

// What a file of this mode is, for messages: "a FIFO".
inline std::string file_kind(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "a special file";
}

// All of `text` as a number above 0 without leading zeros ("3", not "03").
inline std::optional<long> positive_number(std::string_view text) {
  if (text.empty() || text.front() < '1' || text.front() > '9') return std::nullopt;
  long n = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

// The directory `path` is in ("." for a bare file name).
inline std::filesystem::path directory_of(const std::string& path) {
  std::filesystem::path directory = std::filesystem::path(path).parent_path();
  if (directory.empty()) directory = ".";
  return directory;
}

// Reads the directory of `path` once and calls on_suffix(suffix) for each
// entry named "<file name of path>.<suffix>" (suffix not empty), in directory
// order: "3" for app.log.3, "3.zst" for app.log.3.zst. Returns the error that
// stopped the reading (then the entries seen may be only some of them).
template <typename OnSuffix>
std::error_code for_each_suffix_of(const std::string& path, OnSuffix&& on_suffix) {
  namespace fs = std::filesystem;
  const std::string prefix = fs::path(path).filename().string() + ".";
  std::error_code ec;
  for (fs::directory_iterator it(directory_of(path), ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() > prefix.size() && name.starts_with(prefix)) {
      on_suffix(std::string_view(name).substr(prefix.size()));
    }
  }
  return ec;
}

}  // namespace hydra::detail
