// Environment detection: where the process runs — a terminal, CI, a
// container, Kubernetes, a cloud runtime — read from environment variables
// and a few files, never from the network (no metadata server). Zero-config
// and the `auto` preset use it to choose the console's format, and it gives
// the resource fields (service, host, pod, region) that machine-read output
// carries on every record. Every variable and file consulted is listed in
// docs/configuration.md ("Environment detection"). Part of core.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hydra/config/config.hpp"

namespace hydra {

// Looks up one environment variable: its value, or nullopt when unset. The
// same type as in hydra/config/environment.hpp (redeclared here because core
// cannot include the config component), so env_from_map() fits here too.
using Env = std::function<std::optional<std::string>(std::string_view name)>;

// What detection reads. Every member can be replaced, so tests (and programs
// that know better) decide what detection sees.
struct DetectionInput {
  // Empty: the process environment (getenv).
  Env env;
  // The files (/.dockerenv, /proc/1/cgroup, /sys/class/dmi/id/...) are read
  // under this directory.
  std::filesystem::path root = "/";
  // Unset: isatty(STDOUT_FILENO).
  std::optional<bool> stdout_is_tty;
  // Unset: gethostname().
  std::optional<std::string> host_name;
};

// `other`: a container of another or unknown kind (containerd, CRI-O, LXC...).
enum class ContainerRuntime { docker, podman, other };

// Named as OpenTelemetry's `cloud.platform` values (to_string gives them).
// The *_ec2, *_compute_engine and *_vm platforms are plain virtual machines;
// the others are runtimes whose standard output a log agent collects. `none`
// is only the default of Environment::Cloud (no cloud: Environment::cloud is
// empty).
enum class CloudPlatform {
  none,
  aws_lambda,
  aws_ecs,
  aws_eks,
  aws_ec2,
  gcp_cloud_run,
  gcp_cloud_functions,
  gcp_app_engine,
  gcp_kubernetes_engine,
  gcp_compute_engine,
  azure_functions,
  azure_app_service,
  azure_container_apps,
  azure_aks,
  azure_vm,
};

std::string_view to_string(ContainerRuntime runtime) noexcept;
std::string_view to_string(CloudPlatform platform) noexcept;
// "aws", "gcp" or "azure" (OpenTelemetry's `cloud.provider`); "" for none.
std::string_view cloud_provider(CloudPlatform platform) noexcept;

// What detection found. Each part is present only when found, and says what
// showed it (`evidence`: a variable name or a file path), so that a choice
// made from it can be explained.
struct Environment {
  struct Ci {
    std::string name;  // github_actions, gitlab, ..., or "generic" (just CI=...)
    std::string evidence;
  };
  struct Container {
    ContainerRuntime runtime = ContainerRuntime::other;
    std::string evidence;
  };
  struct Kubernetes {
    std::string pod;  // each empty when no variable (or file) tells it
    std::string namespace_name;
    std::string node;
    std::string evidence;
  };
  struct Cloud {
    CloudPlatform platform = CloudPlatform::none;
    std::string region;  // empty when no variable tells it
    std::string evidence;
  };

  bool stdout_is_tty = false;
  std::optional<Ci> ci;
  std::optional<Container> container;
  std::optional<Kubernetes> kubernetes;
  std::optional<Cloud> cloud;
  std::string service_name;  // OTEL_SERVICE_NAME, else the platform's name for the service
  std::string service_version;
  std::string host_name;

  // Kubernetes or a cloud runtime (not a bare VM): a log agent collects
  // standard output, so it should be machine-readable.
  bool stdout_is_collected() const noexcept;

  // The non-empty ones of service.name, service.version, host.name,
  // k8s.namespace.name, k8s.pod.name, k8s.node.name, cloud.provider,
  // cloud.platform, cloud.region (OpenTelemetry's resource names), in that
  // order.
  std::vector<std::pair<std::string, std::string>> resource_fields() const;
};

// Looks at the environment. Cheap enough to call when a logger is built (a
// handful of small files); never throws (unreadable files count as absent).
Environment detect_environment(const DetectionInput& input = {});

// "gcp_json" on Google Cloud, whose logging agent reads that format's
// special fields (severity, source location); "json" elsewhere.
std::string_view json_format_for(const Environment& environment);

// What a logger configured without layers (zero-config) gets: a DEFAULT
// layer with a console on stdout — text, colour when a terminal — except when
// standard output is collected (Kubernetes, a cloud runtime) and is neither a
// terminal nor CI: then JSON Lines (json_format_for) without colour, and the
// resource fields added to `static_fields` (keys already there are kept).
void apply_zero_config(LoggerConfig& config, const Environment& environment);

// The HYDRA_LOG_* variables a zero-config logger honours (the Logger applies
// them after apply_zero_config, so `hydra::Logger log;` follows them):
//   HYDRA_LOG_LEVEL   "info": default_level; "info,DATABASE=debug" also that
//                     layer's level (parse_level_spec, as the config component)
//   HYDRA_LOG_FORMAT  every destination's format (is_format_name)
//   HYDRA_LOG_THEME   every destination's colour theme
//   and the text format variables (HYDRA_LOG_DATE_FORMAT, _TIME_FORMAT,
//   _LOGGER_NAME_FORMAT, _MESSAGE_FORMAT: without_bad_format_variables).
// It never throws: a program that did not configure logging must not stop
// over a variable. A bad value gets one notice on stderr (per variable and
// value, per process) naming the variable, the value and what is valid, and
// is ignored: that setting keeps its default. The colour variables are
// lenient everywhere (Palette::from_environment). HYDRA_LOG_CONFIG,
// HYDRA_LOG_PRESET, HYDRA_LOG_REDACT_SENSITIVE and HYDRA_LOG_COMPLIANCE need
// the config component: resolve_config() reads them (hydra/config/loader.hpp).
// `env` empty: the process environment.
void apply_zero_config_environment(LoggerConfig& config, const Env& env = {});

}  // namespace hydra
