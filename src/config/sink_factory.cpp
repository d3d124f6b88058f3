#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <system_error>

#include <fmt/format.h>

#include "factory.hpp"
#include "hydra/config/detect.hpp"
#include "hydra/core/detail/ascii.hpp"
#include "hydra/core/error.hpp"
#include "hydra/format/csv_formatter.hpp"
#include "hydra/format/detail/escape.hpp"
#include "hydra/plugin/registry.hpp"
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
  return std::string(kCsvHeader);
}

namespace {

std::string rotation_name(RotationInterval interval) {
  if (interval == RotationInterval::none) return "none";
  return std::to_string(interval.period.count()) + "m";
}

// A file's path as one spelling: absolute, lexically normal, with the
// symlinks of whatever part exists resolved.
std::string normal_path(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path absolute = fs::absolute(path, ec);
  if (ec) return fs::path(path).lexically_normal().string();
  const fs::path canonical = fs::weakly_canonical(absolute, ec);
  return (ec ? absolute.lexically_normal() : canonical).string();
}

void describe_file(const std::string& path, SinkSpec& spec) {
  const std::string normal = normal_path(path);
  spec.key = "file:" + normal;
  spec.what = "file '" + detail::to_printable(normal) + "'";
  struct stat st {};
  if (::stat(normal.c_str(), &st) == 0) spec.file_id = std::pair{st.st_dev, st.st_ino};
}

}  // namespace

SinkSpec sink_spec(const DestinationConfig& config) {
  SinkSpec spec;
  if (config.sink) {
    spec.key = fmt::format("custom:{}", static_cast<const void*>(config.sink.get()));
    spec.what = "the same sink object";
    return spec;
  }
  const auto header = [&config] {
    const std::string text = header_of(config);
    return text.empty() ? std::string("none") : "'" + detail::to_printable(text) + "'";
  };
  if (config.make_sink) {  // a sink from an optional module (the audit chain): by type and path
    if (config.path.empty()) {
      spec.key = "made:" + config.type;
      spec.what = config.type;
    } else {
      describe_file(config.path, spec);
    }
    spec.options.emplace_back("type", config.type);
    return spec;
  }
  if (!is_builtin_sink_type(config.type) &&
      plugin::Registry::global().has(plugin::Kind::sink, config.type)) {
    // A registry type: one instance per type and options, kept across a
    // reconfigure() that asks for the same.
    const plugin::Options options =
        plugin::Registry::global().check(plugin::Kind::sink, config.type, config.sink_options);
    spec.key = "plugin:" + config.type;
    for (const auto& [key, value] : options.values()) spec.key += "|" + key + "=" + value;
    spec.what = "plugin sink '" + config.type + "'";
    return spec;
  }
  if (config.type == "console") {
    spec.key = "console:" + config.stream;
    spec.what = "console " + detail::to_printable(config.stream);
    spec.options.emplace_back("header", header());
    return spec;
  }
  if ((config.type == "file" || config.type == "rotating_file") && !config.path.empty()) {
    describe_file(config.path, spec);
    spec.options.emplace_back("type", config.type);
    spec.options.emplace_back("buffer_size", std::to_string(config.buffer_size));
    spec.options.emplace_back("flush_level", to_lower_string(config.flush_level));
    spec.options.emplace_back("header", header());
    if (config.type == "rotating_file") {
      spec.options.emplace_back("max_size", std::to_string(config.max_size));
      spec.options.emplace_back("rotation", rotation_name(config.rotation));
      spec.options.emplace_back("rotation_time",
                                std::to_string(config.rotation_time.count()) + "m");
      spec.options.emplace_back("backup_count", std::to_string(config.backup_count));
      spec.options.emplace_back("backup_naming",
                                config.backup_naming == BackupNaming::date ? "date" : "index");
      spec.options.emplace_back("compress", config.compress ? "true" : "false");
    }
  }
  return spec;
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
    o.rotation_time = config.rotation_time;
    o.backup_count = config.backup_count;
    o.backup_naming = config.backup_naming;
    o.compress = config.compress;
    return std::make_shared<RotatingFileSink>(std::move(o));  // checks the options first
  }
  if (config.type == "null") return std::make_shared<NullSink>();
  if (plugin::Registry::global().has(plugin::Kind::sink, config.type)) {
    return plugin::Registry::global().make_sink(config.type, config.sink_options);
  }
  throw ConfigError("type: '" + detail::to_printable(config.type) +
                    "' is not a destination type (valid: console, file, rotating_file, null, "
                    "or a registered sink type: " +
                    plugin::Registry::global().names(plugin::Kind::sink) + ")");
}

bool is_builtin_sink_type(std::string_view type) {
  return type == "console" || type == "file" || type == "rotating_file" || type == "null" ||
         type == "audit";
}

}  // namespace hydra::detail
