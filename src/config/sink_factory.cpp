#include <memory>

#include "factory.hpp"
#include "hydra/config/detect.hpp"
#include "hydra/core/detail/ascii.hpp"
#include "hydra/core/error.hpp"
#include "hydra/format/csv_formatter.hpp"
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
  FileSinkOptions o;
  o.path = config.path;
  o.flush_level = config.flush_level;
  o.buffer_size = config.buffer_size;
  o.header = header_of(config);
  return o;
}

}  // namespace

std::string header_of(const DestinationConfig& config) {
  if (config.formatter) return std::string(config.formatter->header());
  if (!config.csv_header) return {};  // the one named-format option that asks for a header
  std::string_view format = config.format;
  // On a console `auto` never means csv, so a terminal's answer does not matter.
  if (iequals(format, "auto")) format = auto_format_for(config, false, detect_environment());
  if (!iequals(format, "csv")) return {};
  FormatterOptions options;
  options.csv_header = true;
  return std::string(CsvFormatter(options).header());
}

std::shared_ptr<Sink> make_sink(const DestinationConfig& config) {
  if (config.sink) return config.sink;
  if (config.make_sink) return config.make_sink();
  if (config.type == "console") {
    if (config.stream == "stdout")
      return std::make_shared<ConsoleSink>(ConsoleStream::stdout_stream, header_of(config));
    if (config.stream == "stderr")
      return std::make_shared<ConsoleSink>(ConsoleStream::stderr_stream, header_of(config));
    throw ConfigError("stream: '" + config.stream +
                      "' is not a console stream (valid: stdout, stderr)");
  }
  if (config.type == "file") return std::make_shared<FileSink>(file_options(config));
  if (config.type == "rotating_file") {
    RotatingFileSinkOptions o;
    o.file = file_options(config);
    o.max_size = config.max_size;
    o.interval = config.rotation;
    o.backup_count = config.backup_count;
    o.compress = config.compress;
    if (o.max_size == 0 && o.interval == RotationInterval::none) {
      throw ConfigError("rotating_file '" + config.path +
                        "': set max_size and/or rotation (hourly, daily)");
    }
    if (o.backup_count < 0) {
      throw ConfigError("backup_count: " + std::to_string(o.backup_count) + " must be >= 0");
    }
    return std::make_shared<RotatingFileSink>(std::move(o));
  }
  if (config.type == "null") return std::make_shared<NullSink>();
  throw ConfigError("type: '" + config.type +
                    "' is not a destination type (valid: console, file, rotating_file, null)");
}

}  // namespace hydra::detail
