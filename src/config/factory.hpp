// Internal: turns configuration into live objects.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/route.hpp"
#include "hydra/config/config.hpp"
#include "hydra/sink/sink.hpp"

namespace hydra::detail {

// The line each file (or console stream) of a destination starts with: its
// formatter's header() — kCsvHeader for csv with csv_header, whatever a
// formatter of the caller's own says — or "" for none.
std::string header_of(const DestinationConfig& config);

// What decides a destination's sink, for sharing it. Destinations with the
// same `key` write through one sink (one open file), so they must agree on
// its options: `options` lists them by name, as make_sink passes them on.
struct SinkSpec {
  // "file:<path>" with the path absolute, lexically normal and its symlinks
  // resolved, so that every spelling of one file gives one key;
  // "console:stdout"; "custom:<address>" for the caller's sink object. Empty:
  // never shared (a null sink holds nothing).
  std::string key;
  std::string what;  // for messages: "file '/var/log/app.log'", "console stdout"
  // The file's device and inode when it exists, to tell hard links apart
  // from different files.
  std::optional<std::pair<dev_t, ino_t>> file_id;
  std::vector<std::pair<std::string_view, std::string>> options;
};
SinkSpec sink_spec(const DestinationConfig& config);

// The sink a destination asks for (type console | file | rotating_file | null),
// or the supplied `sink`. Throws ConfigError naming the type and the valid
// choices, or the path and errno text of a file that cannot be opened.
std::shared_ptr<Sink> make_sink(const DestinationConfig& config);

// console, file, rotating_file, null, audit: the types Hydra makes itself;
// any other is looked up in the plugin registry.
bool is_builtin_sink_type(std::string_view type);

// A complete destination: sink, formatter (with the colour decision made for
// that sink), level. `default_level` applies when the destination sets none.
Destination build_destination(const DestinationConfig& config);

}  // namespace hydra::detail
