// Whole-file reads and atomic writes for the plugin index, its signature and
// the installed-plugins manifest, with errors that name the file.
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <system_error>

#include "hydra/plugin/loader.hpp"

namespace hydra::plugin::detail {

// The bytes of `path`. `what` names it in the error ("index", "key file").
inline std::string read_whole_file(const std::filesystem::path& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw PluginError(std::string(what) + " '" + path.string() + "': " + std::strerror(errno));
  }
  std::string out{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) {
    throw PluginError(std::string(what) + " '" + path.string() + "': read error");
  }
  return out;
}

// Writes `data` to a temporary file beside `path` and renames it over
// `path`, creating the directories on the way: a reader sees the old file
// or the new one, never half of one.
inline void write_file_atomically(const std::filesystem::path& path, std::string_view data) {
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) {
    throw PluginError("cannot create '" + path.parent_path().string() + "': " + ec.message());
  }
  const std::filesystem::path temp = path.string() + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) throw PluginError("cannot write '" + temp.string() + "': " + std::strerror(errno));
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.close();
    if (!out) throw PluginError("cannot write '" + temp.string() + "': write error");
  }
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    const std::string why = ec.message();
    std::filesystem::remove(temp, ec);
    throw PluginError("cannot write '" + path.string() + "': " + why);
  }
}

}  // namespace hydra::plugin::detail
