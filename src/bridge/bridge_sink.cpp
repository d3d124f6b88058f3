#include "hydra/bridge/bridge_sink.hpp"

#include <errno.h>

#include <cstring>
#include <fstream>
#include <map>
#include <mutex>

#include "hydra/core/error.hpp"

namespace hydra::bridge {

using plugin::OptionSpec;
using plugin::OptionType;

std::shared_ptr<Bridge> shared_bridge(const BridgeOptions& options) {
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<Bridge>> running;
  const bool ephemeral = options.listen.ends_with(":0");
  std::lock_guard lock(mutex);
  if (!ephemeral) {
    if (auto found = running[options.listen].lock()) return found;
  }
  auto bridge = std::make_shared<Bridge>(options);
  if (!ephemeral) running[options.listen] = bridge;
  return bridge;
}

BridgeOptions bridge_options(const plugin::Options& o) {
  BridgeOptions b;
  b.listen = std::string(o.string("listen"));
  b.tenant = std::string(o.string("tenant"));
  b.service = o.has("service") ? std::string(o.string("service")) : std::string();
  if (b.service.empty() && program_invocation_short_name != nullptr) {
    b.service = program_invocation_short_name;
  }
  b.batch_window = o.duration("batch_window");
  b.heartbeat = o.duration("heartbeat");
  b.buffer_records = static_cast<std::size_t>(o.integer("buffer_records"));
  b.buffer_bytes = static_cast<std::size_t>(o.integer("buffer_bytes"));
  b.client_queue_bytes = static_cast<std::size_t>(o.integer("client_queue_bytes"));
  b.keep_when_idle = o.boolean("keep_when_idle");
  b.permessage_deflate = o.boolean("permessage_deflate");
  b.resume_window = o.duration("resume_window");
  b.max_clients = static_cast<std::size_t>(o.integer("max_clients"));
  b.max_subscription_time = o.duration("max_subscription_time");
  b.filter_scan_rate = static_cast<std::size_t>(o.integer("filter_scan_rate"));
  b.intake_layer = std::string(o.string("intake_layer"));
  b.submit_rate = o.number("submit_rate");
  b.submit_burst = o.number("submit_burst");
  if (o.has("api_keys")) {
    for (const auto& entry : o.list("api_keys"))
      b.credentials.api_keys.push_back(parse_api_key(entry));
  }
  if (o.has("jwt_secret")) b.credentials.jwt_secret = std::string(o.string("jwt_secret"));
  if (o.has("jwt_secret_file")) {
    const std::string path(o.string("jwt_secret_file"));
    std::ifstream in(path);
    if (!in) {
      throw ConfigError("bridge: jwt_secret_file '" + path + "': " + std::strerror(errno));
    }
    std::getline(in, b.credentials.jwt_secret);
    if (b.credentials.jwt_secret.empty()) {
      throw ConfigError("bridge: jwt_secret_file '" + path + "': the first line is empty");
    }
  }
  if (o.has("allowed_origins")) b.allowed_origins = o.list("allowed_origins");
  if (o.has("dashboard_dir")) b.dashboard_dir = std::string(o.string("dashboard_dir"));
  if (o.has("tls_cert")) b.tls_cert = std::string(o.string("tls_cert"));
  if (o.has("tls_key")) b.tls_key = std::string(o.string("tls_key"));
  return b;
}

void register_destination(plugin::Registry& registry) {
  plugin::TypeInfo info;
  info.name = "bridge";
  info.description =
      "a live view in the browser: the dashboard at /, WebSocket protocol v1 at /ws, "
      "submitted records at /intake (docs/bridge.md)";
  info.origin = "built-in";
  info.default_format = "json";  // unused: the bridge renders its own frames
  info.options = {
      {"listen", OptionType::string, false, "127.0.0.1:9020",
       "host:port (port 0: an ephemeral one); other than loopback needs api_keys or jwt_secret"},
      {"tenant", OptionType::string, false, "default", "the stream's tenant"},
      {"service", OptionType::string, false, std::nullopt,
       "the stream's service (default: the program's name)"},
      {"batch_window", OptionType::duration, false, "100ms",
       "at most one records frame a window per client", 50, 250},
      {"heartbeat", OptionType::duration, false, "15s",
       "a heartbeat after this long with nothing sent; silent clients close after twice it", 1000,
       300'000},
      {"buffer_records", OptionType::integer, false, "65536", "records kept for resuming clients",
       16, 10'000'000},
      {"buffer_bytes", OptionType::integer, false, "67108864", "bytes kept for resuming clients",
       65536, 17179869184.0},
      {"keep_when_idle", OptionType::boolean, false, "false",
       "keep records while no client is connected (a backlog for the next one, at a cost to "
       "every record)"},
      {"permessage_deflate", OptionType::boolean, false, "false",
       "compress WebSocket messages with clients that offer it (RFC 7692): less bandwidth, more "
       "CPU"},
      {"resume_window", OptionType::duration, false, "60s",
       "after the last client leaves, records are kept this long for it to resume", 0, 86'400'000},
      {"client_queue_bytes", OptionType::integer, false, "4194304",
       "bytes queued per client before it gets a slow_client gap", 65536, 1073741824},
      {"max_clients", OptionType::integer, false, "64", "clients at once (more: 4429)", 1, 10000},
      {"max_subscription_time", OptionType::duration, false, "0",
       "the longest a client stays connected (0: no limit; then 4430)", 0, 604'800'000},
      {"filter_scan_rate", OptionType::integer, false, "67108864",
       "message bytes a client's text and regex filters may scan a second (more: 4413; 0: no "
       "limit)",
       0, 17179869184.0},
      {"intake_layer", OptionType::string, false, "FRONTEND", "the layer of submitted records"},
      {"submit_rate", OptionType::number, false, "200", "submitted records a second per token",
       0.001, 1e9},
      {"submit_burst", OptionType::number, false, "2000", "submitted records at once per token", 1,
       1e9},
      {"api_keys", OptionType::string_list, false, std::nullopt,
       "<role>:<tenant>:<sha256 hex of the key>, role viewer, submitter or admin"},
      {"jwt_secret", OptionType::string, false, std::nullopt, "the HS256 secret of tokens"},
      {"jwt_secret_file", OptionType::string, false, std::nullopt,
       "a file whose first line is the HS256 secret"},
      {"allowed_origins", OptionType::string_list, false, std::nullopt,
       "browser origins allowed besides the bridge's own (\"*\": any)"},
      {"dashboard_dir", OptionType::string, false, std::nullopt,
       "the built dashboard's folder, served at /"},
      {"tls_cert", OptionType::string, false, std::nullopt,
       "the server's certificate chain (PEM); with tls_key: only https and wss"},
      {"tls_key", OptionType::string, false, std::nullopt,
       "the private key of tls_cert (PEM, unencrypted)"},
  };
  registry.add_sink(std::move(info), [](const plugin::Options& o) -> std::shared_ptr<Sink> {
    try {
      return std::make_shared<BridgeSink>(shared_bridge(bridge_options(o)));
    } catch (const BridgeError& e) {
      throw ConfigError(e.what());
    }
  });
}

}  // namespace hydra::bridge
