#include <memory>

#include "factory.hpp"
#include "hydra/core/error.hpp"
#include "hydra/sink/console_sink.hpp"
#include "hydra/sink/file_sink.hpp"
#include "hydra/sink/null_sink.hpp"
#include "hydra/sink/rotating_file_sink.hpp"

namespace hydra::detail {

namespace {

FileSinkOptions file_options(const DestinationConfig& config) {
  if (config.path.empty()) {
    throw ConfigError("path: a " + config.type + " destination needs a path");
  }
  if (config.path.find('\0') != std::string::npos) {
    // open() would stop at it and write to another file than the one named.
    throw ConfigError("path: must not contain a NUL byte");
  }
  FileSinkOptions o;
  o.path = config.path;
  o.flush_level = config.flush_level;
  o.buffer_size = config.buffer_size;
  return o;
}

}  // namespace

std::shared_ptr<Sink> make_sink(const DestinationConfig& config) {
  if (config.sink) return config.sink;
  if (config.make_sink) return config.make_sink();
  if (config.type == "console") {
    if (config.stream == "stdout")
      return std::make_shared<ConsoleSink>(ConsoleStream::stdout_stream);
    if (config.stream == "stderr")
      return std::make_shared<ConsoleSink>(ConsoleStream::stderr_stream);
    throw ConfigError("stream: '" + config.stream +
                      "' is not a console stream (valid: stdout, stderr)");
  }
  if (config.type == "file") return std::make_shared<FileSink>(file_options(config));
  if (config.type == "rotating_file") {
    RotatingFileSinkOptions o;
    o.file = file_options(config);
    o.max_size = config.max_size;
    o.interval = config.rotation;
    o.rotation_time = config.rotation_time;
    o.backup_count = config.backup_count;
    o.backup_naming = config.backup_naming;
    o.compress = config.compress;
    return std::make_shared<RotatingFileSink>(std::move(o));  // checks the options first
  }
  if (config.type == "null") return std::make_shared<NullSink>();
  throw ConfigError("type: '" + config.type +
                    "' is not a destination type (valid: console, file, rotating_file, null)");
}

}  // namespace hydra::detail
