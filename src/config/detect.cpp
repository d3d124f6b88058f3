// Environment detection. Each platform's rule reads the variables the
// platform documents (and, where it sets none, a file); the table in
// docs/configuration.md ("Environment detection") lists them: keep the two in
// step.
#include "hydra/config/detect.hpp"

#include <unistd.h>

#include <array>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <system_error>

#include <fmt/format.h>

#include "hydra/core/detail/ascii.hpp"
#include "hydra/core/detail/notice.hpp"
#include "hydra/core/detail/percent.hpp"
#include "hydra/core/error.hpp"
#include "hydra/format/detail/escape.hpp"
#include "hydra/format/text_formatter.hpp"

namespace hydra {
namespace {

using detail::iequals;

std::string_view trim(std::string_view s) noexcept {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// Variables and files, as the DetectionInput says to read them.
class Probe {
 public:
  explicit Probe(const DetectionInput& input) : input_(input) {}

  // A variable's value; set but empty counts as unset.
  std::optional<std::string> var(std::string_view name) const {
    std::optional<std::string> value;
    if (input_.env) {
      value = input_.env(name);
    } else {
      // The library never changes the environment.
      const char* v = std::getenv(std::string(name).c_str());  // NOLINT(concurrency-mt-unsafe)
      if (v != nullptr) value = v;
    }
    if (value && value->empty()) return std::nullopt;
    return value;
  }

  // The first of `names` that is set: its name and value.
  std::optional<std::pair<std::string_view, std::string>> first(
      std::initializer_list<std::string_view> names) const {
    for (const std::string_view name : names) {
      if (auto v = var(name)) return std::pair{name, std::move(*v)};
    }
    return std::nullopt;
  }

  // `path` is absolute ("/.dockerenv"); it is looked for under the root.
  bool exists(std::string_view path) const {
    std::error_code ec;
    return std::filesystem::exists(under_root(path), ec);
  }

  // The file's first 1 MiB, or nullopt when it cannot be read.
  std::optional<std::string> read(std::string_view path) const {
    std::ifstream in(under_root(path), std::ios::binary);
    if (!in) return std::nullopt;
    constexpr std::size_t kMax = std::size_t{1} << 20;
    std::string text;
    std::array<char, 4096> chunk{};
    while (text.size() < kMax) {
      in.read(chunk.data(), chunk.size());
      if (in.gcount() <= 0) break;
      text.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
    }
    return text;
  }

  // The file's contents without surrounding white space ("" when unreadable).
  std::string read_trimmed(std::string_view path) const {
    const auto text = read(path);
    return text ? std::string(trim(*text)) : std::string();
  }

  std::string host_name() const {
    if (input_.host_name) return *input_.host_name;
    std::array<char, 256> name{};
    if (::gethostname(name.data(), name.size() - 1) != 0) return {};
    return name.data();
  }

  bool stdout_is_tty() const { return input_.stdout_is_tty.value_or(::isatty(STDOUT_FILENO) == 1); }

 private:
  std::filesystem::path under_root(std::string_view path) const {
    return input_.root / std::filesystem::path(path).relative_path();
  }

  const DetectionInput& input_;
};

// CI systems by the variable each sets; the generic CI=... comes last.
struct CiSystem {
  std::string_view name;
  std::string_view variable;
};
constexpr std::array<CiSystem, 13> kCiSystems = {{
    {"github_actions", "GITHUB_ACTIONS"},
    {"gitlab", "GITLAB_CI"},
    {"circleci", "CIRCLECI"},
    {"travis", "TRAVIS"},
    {"jenkins", "JENKINS_URL"},
    {"buildkite", "BUILDKITE"},
    {"azure_pipelines", "TF_BUILD"},
    {"teamcity", "TEAMCITY_VERSION"},
    {"bitbucket", "BITBUCKET_BUILD_NUMBER"},
    {"aws_codebuild", "CODEBUILD_BUILD_ID"},
    {"drone", "DRONE"},
    {"appveyor", "APPVEYOR"},
    {"generic", "CI"},
}};

std::optional<Environment::Ci> detect_ci(const Probe& probe) {
  for (const CiSystem& ci : kCiSystems) {
    const auto value = probe.var(ci.variable);
    if (value && *value != "0" && !iequals(*value, "false")) {
      return Environment::Ci{std::string(ci.name), std::string(ci.variable)};
    }
  }
  return std::nullopt;
}

ContainerRuntime runtime_named(std::string_view name) {
  if (iequals(name, "docker")) return ContainerRuntime::docker;
  if (iequals(name, "podman")) return ContainerRuntime::podman;
  return ContainerRuntime::other;
}

// A container's cgroup path (v1, or v2 without a cgroup namespace) names its
// runtime: /docker/<id>, /system.slice/docker-<id>.scope, libpod-<id>,
// /kubepods/..., cri-containerd-<id>, crio-<id>, /lxc/..., /ecs/....
std::optional<ContainerRuntime> runtime_in_cgroup(std::string_view text) {
  const auto has = [text](std::string_view s) { return text.find(s) != std::string_view::npos; };
  if (has("/docker/") || has("/docker-")) return ContainerRuntime::docker;
  if (has("libpod")) return ContainerRuntime::podman;
  if (has("/kubepods") || has("cri-containerd") || has("/crio-") || has("/lxc/") ||
      has("lxc.payload") || has("/ecs/")) {
    return ContainerRuntime::other;
  }
  return std::nullopt;
}

// cgroup v2 with a namespace shows only "0::/"; a container then shows in
// its mounts: the runtime bind-mounts /etc/hostname (never a mount point on a
// host) from its own directory.
std::optional<ContainerRuntime> runtime_in_mountinfo(std::string_view text) {
  while (!text.empty()) {
    const auto eol = text.find('\n');
    const std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    // mount ID, parent ID, major:minor, root, mount point, ...
    std::array<std::string_view, 5> field{};
    std::string_view rest = line;
    for (auto& f : field) {
      const auto space = rest.find(' ');
      f = rest.substr(0, space);
      rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
    }
    if (field[4] != "/etc/hostname") continue;
    const std::string_view root = field[3];
    if (root.find("/docker/containers/") != std::string_view::npos) {
      return ContainerRuntime::docker;
    }
    if (root.find("/containers/storage/") != std::string_view::npos) {
      return ContainerRuntime::podman;
    }
    return ContainerRuntime::other;
  }
  return std::nullopt;
}

std::optional<Environment::Container> detect_container(const Probe& probe) {
  using C = Environment::Container;
  if (probe.exists("/.dockerenv")) return C{ContainerRuntime::docker, "/.dockerenv"};
  if (probe.exists("/run/.containerenv")) return C{ContainerRuntime::podman, "/run/.containerenv"};
  if (const auto name = probe.var("container")) return C{runtime_named(*name), "container"};
  for (const std::string_view path : {"/proc/1/cgroup", "/proc/self/cgroup"}) {
    const auto text = probe.read(path);
    if (const auto runtime = text ? runtime_in_cgroup(*text) : std::nullopt) {
      return C{*runtime, std::string(path)};
    }
  }
  const auto mounts = probe.read("/proc/self/mountinfo");
  if (const auto runtime = mounts ? runtime_in_mountinfo(*mounts) : std::nullopt) {
    return C{*runtime, "/proc/self/mountinfo"};
  }
  return std::nullopt;
}

// The downward API exposes pod, namespace and node only through variables the
// pod spec names; these are the names in common use (Kubernetes' own examples
// use MY_POD_NAME and friends). The kubelet sets HOSTNAME to the pod name, and
// mounts the namespace with the service account token.
std::optional<Environment::Kubernetes> detect_kubernetes(const Probe& probe) {
  if (!probe.var("KUBERNETES_SERVICE_HOST")) return std::nullopt;
  Environment::Kubernetes k;
  k.evidence = "KUBERNETES_SERVICE_HOST";
  if (auto v = probe.first({"POD_NAME", "K8S_POD_NAME", "MY_POD_NAME", "HOSTNAME"})) {
    k.pod = std::move(v->second);
  }
  if (auto v = probe.first(
          {"POD_NAMESPACE", "K8S_POD_NAMESPACE", "K8S_NAMESPACE", "MY_POD_NAMESPACE"})) {
    k.namespace_name = std::move(v->second);
  } else {
    k.namespace_name =
        probe.read_trimmed("/var/run/secrets/kubernetes.io/serviceaccount/namespace");
  }
  if (auto v = probe.first({"NODE_NAME", "K8S_NODE_NAME", "MY_NODE_NAME"})) {
    k.node = std::move(v->second);
  }
  return k;
}

// A value of OTEL_RESOURCE_ATTRIBUTES ("key1=value1,key2=value2", values
// percent-encoded), or "".
std::string otel_attribute(std::string_view attributes, std::string_view key) {
  while (!attributes.empty()) {
    const auto comma = attributes.find(',');
    const std::string_view item = attributes.substr(0, comma);
    attributes =
        comma == std::string_view::npos ? std::string_view{} : attributes.substr(comma + 1);
    const auto eq = item.find('=');
    if (eq == std::string_view::npos || trim(item.substr(0, eq)) != key) continue;
    const std::string_view encoded = trim(item.substr(eq + 1));
    return detail::percent_decoded(encoded);
  }
  return {};
}

// A platform found, with what the platform calls the service and its version.
struct Found {
  Environment::Cloud cloud;
  std::string service_name;
  std::string service_version;
};

std::string var_or_empty(const Probe& probe, std::string_view name) {
  return probe.var(name).value_or("");
}

std::string aws_region(const Probe& probe) {
  auto v = probe.first({"AWS_REGION", "AWS_DEFAULT_REGION"});
  return v ? std::move(v->second) : std::string();
}

// Runtimes that say so in variables of their own.
std::optional<Found> detect_runtime(const Probe& probe, bool kubernetes) {
  using P = CloudPlatform;
  const auto found = [](P platform, std::string region, std::string_view evidence,
                        std::string name = {}, std::string version = {}) {
    return Found{
        {platform, std::move(region), std::string(evidence)}, std::move(name), std::move(version)};
  };
  if (auto name = probe.var("AWS_LAMBDA_FUNCTION_NAME")) {
    return found(P::aws_lambda, aws_region(probe), "AWS_LAMBDA_FUNCTION_NAME", *name,
                 var_or_empty(probe, "AWS_LAMBDA_FUNCTION_VERSION"));
  }
  if (auto v = probe.first({"ECS_CONTAINER_METADATA_URI_V4", "ECS_CONTAINER_METADATA_URI"})) {
    return found(P::aws_ecs, aws_region(probe), v->first);
  }
  if (var_or_empty(probe, "AWS_EXECUTION_ENV").starts_with("AWS_ECS_")) {
    return found(P::aws_ecs, aws_region(probe), "AWS_EXECUTION_ENV");
  }
  // Cloud Run functions (and 2nd-gen Cloud Functions) run the Functions
  // Framework: FUNCTION_TARGET, with K_SERVICE and K_REVISION. Older
  // runtimes set FUNCTION_NAME and FUNCTION_REGION.
  if (probe.var("FUNCTION_TARGET")) {
    return found(P::gcp_cloud_functions, var_or_empty(probe, "FUNCTION_REGION"), "FUNCTION_TARGET",
                 var_or_empty(probe, "K_SERVICE"), var_or_empty(probe, "K_REVISION"));
  }
  if (auto name = probe.var("FUNCTION_NAME"); name && probe.var("FUNCTION_REGION")) {
    return found(P::gcp_cloud_functions, var_or_empty(probe, "FUNCTION_REGION"), "FUNCTION_NAME",
                 *name);
  }
  // Knative sets K_SERVICE too, on any Kubernetes cluster; Cloud Run is not
  // one the container can see.
  if (auto name = probe.var("K_SERVICE"); name && !kubernetes) {
    return found(P::gcp_cloud_run, {}, "K_SERVICE", *name, var_or_empty(probe, "K_REVISION"));
  }
  if (auto job = probe.var("CLOUD_RUN_JOB"); job && !kubernetes) {
    return found(P::gcp_cloud_run, {}, "CLOUD_RUN_JOB", *job,
                 var_or_empty(probe, "CLOUD_RUN_EXECUTION"));
  }
  if (auto name = probe.var("GAE_SERVICE")) {
    return found(P::gcp_app_engine, {}, "GAE_SERVICE", *name, var_or_empty(probe, "GAE_VERSION"));
  }
  // A function app is an App Service site too, so it is asked first.
  if (auto v = probe.first({"FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION"})) {
    return found(P::azure_functions, var_or_empty(probe, "REGION_NAME"), v->first,
                 var_or_empty(probe, "WEBSITE_SITE_NAME"));
  }
  if (auto name = probe.var("CONTAINER_APP_NAME")) {
    return found(P::azure_container_apps, {}, "CONTAINER_APP_NAME", *name,
                 var_or_empty(probe, "CONTAINER_APP_REVISION"));
  }
  if (auto name = probe.var("WEBSITE_SITE_NAME")) {
    return found(P::azure_app_service, var_or_empty(probe, "REGION_NAME"), "WEBSITE_SITE_NAME",
                 *name);
  }
  return std::nullopt;
}

// Virtual machines set no variable; their firmware tables (SMBIOS, readable
// by anyone under /sys/class/dmi/id, also from a container) name the cloud.
// On Kubernetes such a machine is a node of the provider's managed cluster.
struct MachineSign {
  std::string_view file;
  std::string_view prefix;  // of the file's contents
  CloudPlatform vm;
  CloudPlatform cluster;
};
constexpr std::array<MachineSign, 5> kMachineSigns = {{
    {"/sys/class/dmi/id/sys_vendor", "Amazon EC2", CloudPlatform::aws_ec2, CloudPlatform::aws_eks},
    {"/sys/class/dmi/id/board_vendor", "Amazon EC2", CloudPlatform::aws_ec2,
     CloudPlatform::aws_eks},
    // Older (Xen) instances.
    {"/sys/hypervisor/uuid", "ec2", CloudPlatform::aws_ec2, CloudPlatform::aws_eks},
    {"/sys/class/dmi/id/product_name", "Google Compute Engine", CloudPlatform::gcp_compute_engine,
     CloudPlatform::gcp_kubernetes_engine},
    // The asset tag of every Azure VM (cloud-init tells Azure by it).
    {"/sys/class/dmi/id/chassis_asset_tag", "7783-7084-3265-9085-8269-3286-77",
     CloudPlatform::azure_vm, CloudPlatform::azure_aks},
}};

std::optional<Found> detect_machine(const Probe& probe, bool kubernetes) {
  for (const MachineSign& sign : kMachineSigns) {
    if (!probe.read_trimmed(sign.file).starts_with(sign.prefix)) continue;
    Found f;
    f.cloud.platform = kubernetes ? sign.cluster : sign.vm;
    f.cloud.evidence = std::string(sign.file);
    if (kubernetes) f.cloud.evidence = "KUBERNETES_SERVICE_HOST, " + f.cloud.evidence;
    if (cloud_provider(sign.vm) == "aws") f.cloud.region = aws_region(probe);
    return f;
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(ContainerRuntime runtime) noexcept {
  switch (runtime) {
    case ContainerRuntime::docker: return "docker";
    case ContainerRuntime::podman: return "podman";
    case ContainerRuntime::other: return "other";
  }
  return "other";
}

std::string_view to_string(CloudPlatform platform) noexcept {
  switch (platform) {
    case CloudPlatform::none: return "none";
    case CloudPlatform::aws_lambda: return "aws_lambda";
    case CloudPlatform::aws_ecs: return "aws_ecs";
    case CloudPlatform::aws_eks: return "aws_eks";
    case CloudPlatform::aws_ec2: return "aws_ec2";
    case CloudPlatform::gcp_cloud_run: return "gcp_cloud_run";
    case CloudPlatform::gcp_cloud_functions: return "gcp_cloud_functions";
    case CloudPlatform::gcp_app_engine: return "gcp_app_engine";
    case CloudPlatform::gcp_kubernetes_engine: return "gcp_kubernetes_engine";
    case CloudPlatform::gcp_compute_engine: return "gcp_compute_engine";
    case CloudPlatform::azure_functions: return "azure_functions";
    case CloudPlatform::azure_app_service: return "azure_app_service";
    case CloudPlatform::azure_container_apps: return "azure_container_apps";
    case CloudPlatform::azure_aks: return "azure_aks";
    case CloudPlatform::azure_vm: return "azure_vm";
  }
  return "none";
}

std::string_view cloud_provider(CloudPlatform platform) noexcept {
  const std::string_view name = to_string(platform);
  if (name.starts_with("aws_")) return "aws";
  if (name.starts_with("gcp_")) return "gcp";
  if (name.starts_with("azure_")) return "azure";
  return {};
}

bool Environment::stdout_is_collected() const noexcept {
  if (kubernetes) return true;
  if (!cloud) return false;
  switch (cloud->platform) {
    case CloudPlatform::none:
    case CloudPlatform::aws_ec2:
    case CloudPlatform::gcp_compute_engine:
    case CloudPlatform::azure_vm: return false;
    default: return true;
  }
}

std::vector<std::pair<std::string, std::string>> Environment::resource_fields() const {
  std::vector<std::pair<std::string, std::string>> fields;
  const auto add = [&fields](std::string_view key, std::string_view value) {
    if (!value.empty()) fields.emplace_back(key, value);
  };
  add("service.name", service_name);
  add("service.version", service_version);
  add("host.name", host_name);
  if (kubernetes) {
    add("k8s.namespace.name", kubernetes->namespace_name);
    add("k8s.pod.name", kubernetes->pod);
    add("k8s.node.name", kubernetes->node);
  }
  if (cloud) {
    add("cloud.provider", cloud_provider(cloud->platform));
    add("cloud.platform", to_string(cloud->platform));
    add("cloud.region", cloud->region);
  }
  return fields;
}

Environment detect_environment(const DetectionInput& input) {
  const Probe probe(input);
  Environment env;
  env.stdout_is_tty = probe.stdout_is_tty();
  env.ci = detect_ci(probe);
  env.container = detect_container(probe);
  env.kubernetes = detect_kubernetes(probe);
  const bool kubernetes = env.kubernetes.has_value();
  std::optional<Found> found = detect_runtime(probe, kubernetes);
  if (!found) found = detect_machine(probe, kubernetes);
  if (found) env.cloud = std::move(found->cloud);

  // OpenTelemetry's variables first (OTEL_SERVICE_NAME wins over the
  // attributes), then what the platform calls the service.
  const std::string attributes = var_or_empty(probe, "OTEL_RESOURCE_ATTRIBUTES");
  env.service_name = var_or_empty(probe, "OTEL_SERVICE_NAME");
  if (env.service_name.empty()) env.service_name = otel_attribute(attributes, "service.name");
  if (env.service_name.empty() && found) env.service_name = found->service_name;
  if (env.service_name.empty() && kubernetes) env.service_name = var_or_empty(probe, "K_SERVICE");
  env.service_version = otel_attribute(attributes, "service.version");
  if (env.service_version.empty() && found) env.service_version = found->service_version;
  if (env.service_version.empty() && kubernetes) {
    env.service_version = var_or_empty(probe, "K_REVISION");
  }
  env.host_name = probe.host_name();
  return env;
}

std::string_view json_format_for(const Environment& environment) {
  const bool gcp = environment.cloud && cloud_provider(environment.cloud->platform) == "gcp";
  return gcp ? "gcp_json" : "json";
}

void apply_zero_config_environment(LoggerConfig& config, const Env& env) {
  DetectionInput input;
  input.env = env;
  const Probe probe(input);
  // A variable that cannot be used: one notice, and the default stays.
  const auto ignore = [](std::string_view variable, const std::string& value,
                         std::string_view problem) {
    detail::notice_once(std::string(variable) + '=' + value,
                        fmt::format("{}='{}' is ignored: {}; the default is used", variable,
                                    detail::to_printable(value), problem));
  };
  if (const auto value = probe.var("HYDRA_LOG_LEVEL")) {
    try {
      const LevelSpec spec = parse_level_spec(*value);
      if (spec.overall) config.default_level = *spec.overall;
      for (const auto& [name, level] : spec.layers) config.layers[name].level = level;
    } catch (const ConfigError& e) {
      ignore("HYDRA_LOG_LEVEL", *value, e.what());
    }
  }
  std::optional<std::string> format;
  if (const auto value = probe.var("HYDRA_LOG_FORMAT")) {
    if (is_format_name(*value)) {
      format = *value;
    } else {
      ignore("HYDRA_LOG_FORMAT", *value,
             fmt::format("'{}' is not a format (valid: {})", detail::to_printable(*value),
                         kFormatChoices));
    }
  }
  std::optional<std::string> theme;
  if (const auto value = probe.var("HYDRA_LOG_THEME")) {
    try {
      static_cast<void>(Palette::theme(*value));
      theme = *value;
    } catch (const ConfigError& e) {
      ignore("HYDRA_LOG_THEME", *value, e.what());
    }
  }
  for (auto& [name, layer] : config.layers) {
    for (DestinationConfig& d : layer.destinations) {
      if (format) d.format = *format;
      if (theme) {
        d.theme = ColorTheme();
        d.theme.name = *theme;
      }
      if (iequals(d.format, "text")) d.text = without_bad_format_variables(d.text);
    }
  }
}

void apply_zero_config(LoggerConfig& config, const Environment& environment) {
  DestinationConfig destination = console();
  if (!environment.stdout_is_tty && !environment.ci && environment.stdout_is_collected()) {
    destination = console(std::string(json_format_for(environment)), ColorMode::never);
    for (auto& [key, value] : environment.resource_fields()) {
      bool present = false;
      for (const auto& field : config.static_fields) present = present || field.first == key;
      if (!present) config.static_fields.emplace_back(std::move(key), std::move(value));
    }
  }
  config.layers[std::string(kDefaultLayer)].destinations.push_back(std::move(destination));
}

}  // namespace hydra
