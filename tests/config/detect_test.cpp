// Environment detection under a faked environment (variables, and files under
// a temporary root), and what uses it: zero-config, the `auto` preset, static
// (resource) fields, and `hydra config explain` crediting detection.
#include <gtest/gtest.h>

#include <filesystem>
#include <hydra/config/detect.hpp>
#include <hydra/config/environment.hpp>
#include <hydra/config/loader.hpp>
#include <hydra/config/presets.hpp>
#include <hydra/core/logger.hpp>
#include <hydra/sink/memory_sink.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/config_test_util.hpp"
#include "format/format_test_support.hpp"

namespace {

using hydra::CloudPlatform;
using hydra::ContainerRuntime;
using hydra::Environment;
using hydra::test::TempDir;
using Fields = std::vector<std::pair<std::string, std::string>>;

// What detection sees: only `vars`, the files written under a fresh root,
// stdout not a terminal (unless asked), host name "host-1".
struct FakeWorld {
  TempDir root;
  std::map<std::string, std::string, std::less<>> vars;

  // `path` is absolute, as on the real system: "/proc/1/cgroup".
  void file(const std::string& path, const std::string& contents = "") const {
    const std::filesystem::path at = root.path() / std::filesystem::path(path).relative_path();
    std::filesystem::create_directories(at.parent_path());
    hydra::test::write_file(at, contents);
  }

  Environment detect(bool tty = false) const {
    hydra::DetectionInput input;
    input.env = hydra::env_from_map(vars);
    input.root = root.path();
    input.stdout_is_tty = tty;
    input.host_name = "host-1";
    return hydra::detect_environment(input);
  }
};

std::string field(const Fields& fields, const std::string& key) {
  for (const auto& [k, v] : fields) {
    if (k == key) return v;
  }
  return "<absent>";
}

TEST(Detect, NothingInAnEmptyWorld) {
  FakeWorld w;
  const Environment e = w.detect();
  EXPECT_FALSE(e.stdout_is_tty);
  EXPECT_FALSE(e.ci);
  EXPECT_FALSE(e.container);
  EXPECT_FALSE(e.kubernetes);
  EXPECT_FALSE(e.cloud);
  EXPECT_FALSE(e.stdout_is_collected());
  EXPECT_EQ(e.resource_fields(), (Fields{{"host.name", "host-1"}}));
  EXPECT_TRUE(w.detect(true).stdout_is_tty);
}

TEST(Detect, CiSystems) {
  const std::vector<std::pair<std::string, std::string>> systems = {
      {"GITHUB_ACTIONS", "github_actions"},
      {"GITLAB_CI", "gitlab"},
      {"CIRCLECI", "circleci"},
      {"TRAVIS", "travis"},
      {"JENKINS_URL", "jenkins"},
      {"BUILDKITE", "buildkite"},
      {"TF_BUILD", "azure_pipelines"},
      {"TEAMCITY_VERSION", "teamcity"},
      {"BITBUCKET_BUILD_NUMBER", "bitbucket"},
      {"CODEBUILD_BUILD_ID", "aws_codebuild"},
      {"DRONE", "drone"},
      {"APPVEYOR", "appveyor"},
      {"CI", "generic"}};
  for (const auto& [variable, name] : systems) {
    FakeWorld w;
    w.vars[variable] = "true";
    const Environment e = w.detect();
    ASSERT_TRUE(e.ci) << variable;
    EXPECT_EQ(e.ci->name, name);
    EXPECT_EQ(e.ci->evidence, variable);
  }
  FakeWorld both;
  both.vars = {{"CI", "true"}, {"GITHUB_ACTIONS", "true"}};
  EXPECT_EQ(both.detect().ci->name, "github_actions");  // the specific one wins
  for (const char* no : {"false", "FALSE", "0", ""}) {
    FakeWorld w;
    w.vars["CI"] = no;
    EXPECT_FALSE(w.detect().ci) << "CI=" << no;
  }
}

TEST(Detect, DockerAndPodmanByTheirMarkerFiles) {
  FakeWorld docker;
  docker.file("/.dockerenv");
  const Environment d = docker.detect();
  ASSERT_TRUE(d.container);
  EXPECT_EQ(d.container->runtime, ContainerRuntime::docker);
  EXPECT_EQ(d.container->evidence, "/.dockerenv");
  EXPECT_FALSE(d.stdout_is_collected());  // a bare container: nothing says an agent reads it

  FakeWorld podman;
  podman.file("/run/.containerenv", "engine=\"podman-4.3.1\"\n");
  EXPECT_EQ(podman.detect().container->runtime, ContainerRuntime::podman);

  FakeWorld variable;
  variable.vars["container"] = "podman";
  EXPECT_EQ(variable.detect().container->runtime, ContainerRuntime::podman);
  variable.vars["container"] = "systemd-nspawn";
  EXPECT_EQ(variable.detect().container->runtime, ContainerRuntime::other);
}

TEST(Detect, ContainerByCgroup) {
  const std::vector<std::pair<std::string, ContainerRuntime>> cases = {
      {"12:memory:/docker/3f1c9e0d\n0::/docker/3f1c9e0d\n", ContainerRuntime::docker},
      {"0::/system.slice/docker-3f1c9e0d.scope\n", ContainerRuntime::docker},
      {"0::/machine.slice/libpod-3f1c9e0d.scope/container\n", ContainerRuntime::podman},
      {"11:cpu:/kubepods/burstable/pod1234/3f1c9e0d\n", ContainerRuntime::other},
      {"0::/system.slice/containerd.service/kubepods-besteffort.slice:cri-containerd:3f1c\n",
       ContainerRuntime::other},
      {"9:cpu:/ecs/5a1b/3f1c9e0d\n", ContainerRuntime::other},
  };
  for (const auto& [text, runtime] : cases) {
    FakeWorld w;
    w.file("/proc/self/cgroup", text);
    const Environment e = w.detect();
    ASSERT_TRUE(e.container) << text;
    EXPECT_EQ(e.container->runtime, runtime) << text;
    EXPECT_EQ(e.container->evidence, "/proc/self/cgroup");
  }
  // A host: init's scope, a user session, the Docker daemon's own service.
  for (const char* host : {"0::/init.scope\n", "0::/user.slice/user-1000.slice/session-2.scope\n",
                           "0::/system.slice/docker.service\n", "0::/\n"}) {
    FakeWorld w;
    w.file("/proc/1/cgroup", host);
    w.file("/proc/self/cgroup", host);
    EXPECT_FALSE(w.detect().container) << host;
  }
}

TEST(Detect, ContainerByMountsWhenTheCgroupIsNamespaced) {
  FakeWorld docker;
  docker.file("/proc/self/cgroup", "0::/\n");
  docker.file("/proc/self/mountinfo",
              "1021 998 0:88 / / rw,relatime master:312 - overlay overlay rw\n"
              "1035 1021 259:2 /var/lib/docker/containers/3f1c/hostname /etc/hostname "
              "rw,relatime - ext4 /dev/nvme0n1p2 rw\n");
  const Environment d = docker.detect();
  ASSERT_TRUE(d.container);
  EXPECT_EQ(d.container->runtime, ContainerRuntime::docker);
  EXPECT_EQ(d.container->evidence, "/proc/self/mountinfo");

  FakeWorld podman;
  podman.file("/proc/self/mountinfo",
              "600 590 0:52 /containers/storage/overlay-containers/3f1c/userdata/hostname "
              "/etc/hostname rw - tmpfs tmpfs rw\n");
  EXPECT_EQ(podman.detect().container->runtime, ContainerRuntime::podman);

  // A Docker host sees its containers' shm mounts, but never /etc/hostname.
  FakeWorld host;
  host.file("/proc/self/mountinfo",
            "30 1 259:2 / / rw - ext4 /dev/nvme0n1p2 rw\n"
            "90 30 0:50 / /var/lib/docker/containers/3f1c/mounts/shm rw - tmpfs shm rw\n");
  EXPECT_FALSE(host.detect().container);
}

TEST(Detect, KubernetesWithTheDownwardApi) {
  FakeWorld w;
  w.vars = {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
            {"POD_NAME", "shop-7d4b9-x2x"},
            {"POD_NAMESPACE", "prod"},
            {"NODE_NAME", "node-3"},
            {"HOSTNAME", "ignored-when-POD_NAME-is-set"}};
  const Environment e = w.detect();
  ASSERT_TRUE(e.kubernetes);
  EXPECT_EQ(e.kubernetes->pod, "shop-7d4b9-x2x");
  EXPECT_EQ(e.kubernetes->namespace_name, "prod");
  EXPECT_EQ(e.kubernetes->node, "node-3");
  EXPECT_EQ(e.kubernetes->evidence, "KUBERNETES_SERVICE_HOST");
  EXPECT_FALSE(e.cloud);
  EXPECT_TRUE(e.stdout_is_collected());
  EXPECT_EQ(e.resource_fields(), (Fields{{"host.name", "host-1"},
                                         {"k8s.namespace.name", "prod"},
                                         {"k8s.pod.name", "shop-7d4b9-x2x"},
                                         {"k8s.node.name", "node-3"}}));

  FakeWorld other_names;
  other_names.vars = {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
                      {"K8S_POD_NAME", "a"},
                      {"K8S_POD_NAMESPACE", "b"},
                      {"K8S_NODE_NAME", "c"}};
  const Environment o = other_names.detect();
  EXPECT_EQ(o.kubernetes->pod, "a");
  EXPECT_EQ(o.kubernetes->namespace_name, "b");
  EXPECT_EQ(o.kubernetes->node, "c");
}

TEST(Detect, KubernetesFallsBackToHostnameAndTheServiceAccountNamespace) {
  FakeWorld w;
  w.vars = {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"HOSTNAME", "shop-7d4b9-x2x"}};
  w.file("/var/run/secrets/kubernetes.io/serviceaccount/namespace", "payments\n");
  const Environment e = w.detect();
  EXPECT_EQ(e.kubernetes->pod, "shop-7d4b9-x2x");
  EXPECT_EQ(e.kubernetes->namespace_name, "payments");
  EXPECT_EQ(e.kubernetes->node, "");
  EXPECT_EQ(field(e.resource_fields(), "k8s.node.name"), "<absent>");  // empty: left out
}

TEST(Detect, AwsLambda) {
  FakeWorld w;
  w.vars = {{"AWS_LAMBDA_FUNCTION_NAME", "orders"},
            {"AWS_LAMBDA_FUNCTION_VERSION", "7"},
            {"AWS_REGION", "eu-west-1"},
            {"AWS_EXECUTION_ENV", "AWS_Lambda_python3.12"}};
  const Environment e = w.detect();
  ASSERT_TRUE(e.cloud);
  EXPECT_EQ(e.cloud->platform, CloudPlatform::aws_lambda);
  EXPECT_EQ(e.cloud->evidence, "AWS_LAMBDA_FUNCTION_NAME");
  EXPECT_TRUE(e.stdout_is_collected());
  EXPECT_EQ(hydra::json_format_for(e), "json");
  EXPECT_EQ(e.resource_fields(), (Fields{{"service.name", "orders"},
                                         {"service.version", "7"},
                                         {"host.name", "host-1"},
                                         {"cloud.provider", "aws"},
                                         {"cloud.platform", "aws_lambda"},
                                         {"cloud.region", "eu-west-1"}}));
}

TEST(Detect, AwsEcs) {
  FakeWorld v4;
  v4.vars = {{"ECS_CONTAINER_METADATA_URI_V4", "http://169.254.170.2/v4/3f1c"},
             {"AWS_DEFAULT_REGION", "us-east-2"}};
  const Environment e = v4.detect();
  EXPECT_EQ(e.cloud->platform, CloudPlatform::aws_ecs);
  EXPECT_EQ(e.cloud->evidence, "ECS_CONTAINER_METADATA_URI_V4");
  EXPECT_EQ(e.cloud->region, "us-east-2");

  FakeWorld fargate;
  fargate.vars = {{"AWS_EXECUTION_ENV", "AWS_ECS_FARGATE"}};
  EXPECT_EQ(fargate.detect().cloud->platform, CloudPlatform::aws_ecs);
}

TEST(Detect, AwsEc2AndEksByTheFirmwareTables) {
  FakeWorld vm;
  vm.file("/sys/class/dmi/id/sys_vendor", "Amazon EC2\n");
  vm.vars["AWS_REGION"] = "ap-south-1";
  const Environment e = vm.detect();
  EXPECT_EQ(e.cloud->platform, CloudPlatform::aws_ec2);
  EXPECT_EQ(e.cloud->evidence, "/sys/class/dmi/id/sys_vendor");
  EXPECT_EQ(e.cloud->region, "ap-south-1");
  EXPECT_FALSE(e.stdout_is_collected());  // a VM: stdout goes where the service manager says

  vm.vars["KUBERNETES_SERVICE_HOST"] = "10.100.0.1";
  const Environment eks = vm.detect();
  EXPECT_EQ(eks.cloud->platform, CloudPlatform::aws_eks);
  EXPECT_EQ(eks.cloud->evidence, "KUBERNETES_SERVICE_HOST, /sys/class/dmi/id/sys_vendor");
  EXPECT_TRUE(eks.stdout_is_collected());

  FakeWorld xen;
  xen.file("/sys/hypervisor/uuid", "ec2e1916-9099-7caf-fd21-012345abcdef\n");
  EXPECT_EQ(xen.detect().cloud->platform, CloudPlatform::aws_ec2);
}

TEST(Detect, GcpCloudRun) {
  FakeWorld w;
  w.vars = {{"K_SERVICE", "shop"}, {"K_REVISION", "shop-00042-xyz"}, {"K_CONFIGURATION", "shop"}};
  const Environment e = w.detect();
  EXPECT_EQ(e.cloud->platform, CloudPlatform::gcp_cloud_run);
  EXPECT_EQ(e.cloud->evidence, "K_SERVICE");
  EXPECT_EQ(e.service_name, "shop");
  EXPECT_EQ(e.service_version, "shop-00042-xyz");
  EXPECT_EQ(hydra::json_format_for(e), "gcp_json");
  EXPECT_EQ(field(e.resource_fields(), "cloud.provider"), "gcp");

  FakeWorld job;
  job.vars = {{"CLOUD_RUN_JOB", "nightly"}, {"CLOUD_RUN_EXECUTION", "nightly-abc"}};
  const Environment j = job.detect();
  EXPECT_EQ(j.cloud->platform, CloudPlatform::gcp_cloud_run);
  EXPECT_EQ(j.service_name, "nightly");
}

TEST(Detect, GcpCloudFunctions) {
  FakeWorld w;
  w.vars = {{"FUNCTION_TARGET", "handle"},
            {"FUNCTION_SIGNATURE_TYPE", "http"},
            {"K_SERVICE", "resize"},
            {"K_REVISION", "resize-00003"}};
  const Environment e = w.detect();
  EXPECT_EQ(e.cloud->platform, CloudPlatform::gcp_cloud_functions);
  EXPECT_EQ(e.service_name, "resize");
  EXPECT_EQ(e.service_version, "resize-00003");

  FakeWorld legacy;
  legacy.vars = {{"FUNCTION_NAME", "resize"}, {"FUNCTION_REGION", "us-central1"}};
  const Environment l = legacy.detect();
  EXPECT_EQ(l.cloud->platform, CloudPlatform::gcp_cloud_functions);
  EXPECT_EQ(l.cloud->region, "us-central1");
  EXPECT_EQ(l.service_name, "resize");
}

TEST(Detect, GcpAppEngineAndGke) {
  FakeWorld gae;
  gae.vars = {{"GAE_SERVICE", "default"}, {"GAE_VERSION", "20261127t101312"}};
  const Environment a = gae.detect();
  EXPECT_EQ(a.cloud->platform, CloudPlatform::gcp_app_engine);
  EXPECT_EQ(a.service_version, "20261127t101312");

  FakeWorld gke;
  gke.vars = {{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}};
  gke.file("/sys/class/dmi/id/product_name", "Google Compute Engine\n");
  const Environment g = gke.detect();
  EXPECT_EQ(g.cloud->platform, CloudPlatform::gcp_kubernetes_engine);
  EXPECT_EQ(hydra::json_format_for(g), "gcp_json");

  gke.vars.erase("KUBERNETES_SERVICE_HOST");
  EXPECT_EQ(gke.detect().cloud->platform, CloudPlatform::gcp_compute_engine);
}

TEST(Detect, KnativeOnAnyClusterIsNotCloudRun) {
  FakeWorld w;
  w.vars = {
      {"KUBERNETES_SERVICE_HOST", "10.0.0.1"}, {"K_SERVICE", "shop"}, {"K_REVISION", "shop-00001"}};
  const Environment e = w.detect();
  EXPECT_FALSE(e.cloud);
  ASSERT_TRUE(e.kubernetes);
  EXPECT_EQ(e.service_name, "shop");  // still what the service is called
  EXPECT_EQ(e.service_version, "shop-00001");
  EXPECT_EQ(hydra::json_format_for(e), "json");
}

TEST(Detect, Azure) {
  FakeWorld app;
  app.vars = {{"WEBSITE_SITE_NAME", "shop"},
              {"WEBSITE_INSTANCE_ID", "a1b2"},
              {"REGION_NAME", "West Europe"}};
  const Environment s = app.detect();
  EXPECT_EQ(s.cloud->platform, CloudPlatform::azure_app_service);
  EXPECT_EQ(s.cloud->region, "West Europe");
  EXPECT_EQ(s.service_name, "shop");
  EXPECT_EQ(field(s.resource_fields(), "cloud.provider"), "azure");

  FakeWorld functions;  // a function app is an App Service site too
  functions.vars = {{"WEBSITE_SITE_NAME", "thumbs"},
                    {"FUNCTIONS_WORKER_RUNTIME", "dotnet-isolated"},
                    {"FUNCTIONS_EXTENSION_VERSION", "~4"}};
  const Environment f = functions.detect();
  EXPECT_EQ(f.cloud->platform, CloudPlatform::azure_functions);
  EXPECT_EQ(f.cloud->evidence, "FUNCTIONS_WORKER_RUNTIME");
  EXPECT_EQ(f.service_name, "thumbs");

  FakeWorld aca;
  aca.vars = {{"CONTAINER_APP_NAME", "cart"}, {"CONTAINER_APP_REVISION", "cart--v3"}};
  const Environment c = aca.detect();
  EXPECT_EQ(c.cloud->platform, CloudPlatform::azure_container_apps);
  EXPECT_EQ(c.service_version, "cart--v3");

  FakeWorld aks;
  aks.vars = {{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}};
  aks.file("/sys/class/dmi/id/chassis_asset_tag", "7783-7084-3265-9085-8269-3286-77\n");
  EXPECT_EQ(aks.detect().cloud->platform, CloudPlatform::azure_aks);
}

TEST(Detect, OpenTelemetryNamesTheServiceFirst) {
  FakeWorld w;
  w.vars = {{"K_SERVICE", "shop"},
            {"K_REVISION", "shop-1"},
            {"OTEL_RESOURCE_ATTRIBUTES",
             "deployment.environment=prod, service.name=from-attributes,service.version=1.2%2C3"}};
  Environment e = w.detect();
  EXPECT_EQ(e.service_name, "from-attributes");
  EXPECT_EQ(e.service_version, "1.2,3");  // percent-decoded
  w.vars["OTEL_SERVICE_NAME"] = "checkout";
  e = w.detect();
  EXPECT_EQ(e.service_name, "checkout");
  EXPECT_EQ(e.resource_fields().front(),
            (std::pair<std::string, std::string>{"service.name", "checkout"}));
}

TEST(Detect, NamesOfPlatformsAndRuntimes) {
  EXPECT_EQ(hydra::to_string(CloudPlatform::gcp_kubernetes_engine), "gcp_kubernetes_engine");
  EXPECT_EQ(hydra::to_string(ContainerRuntime::podman), "podman");
  EXPECT_EQ(hydra::cloud_provider(CloudPlatform::azure_container_apps), "azure");
  EXPECT_EQ(hydra::cloud_provider(CloudPlatform::aws_eks), "aws");
  EXPECT_EQ(hydra::cloud_provider(CloudPlatform::none), "");
}

// --- zero-config --------------------------------------------------------

Environment kubernetes_environment() {
  Environment e;
  e.kubernetes = Environment::Kubernetes{"shop-1", "prod", "node-3", "KUBERNETES_SERVICE_HOST"};
  e.host_name = "shop-1";
  return e;
}

TEST(ZeroConfigDetection, TextOnATerminalInCiAndInABareContainer) {
  Environment tty = kubernetes_environment();
  tty.stdout_is_tty = true;  // kubectl run -it: a person is reading
  Environment ci = kubernetes_environment();
  ci.ci = Environment::Ci{"gitlab", "GITLAB_CI"};  // a CI job in a cluster
  Environment docker;
  docker.container = Environment::Container{ContainerRuntime::docker, "/.dockerenv"};
  for (const Environment& e : {tty, ci, docker, Environment{}}) {
    hydra::LoggerConfig c;
    hydra::apply_zero_config(c, e);
    ASSERT_EQ(c.layers.size(), 1u);
    const auto& d = c.layers.at("DEFAULT").destinations;
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].type, "console");
    EXPECT_EQ(d[0].stream, "stdout");
    EXPECT_EQ(d[0].format, "text");
    EXPECT_EQ(d[0].color_mode, hydra::ColorMode::automatic);
    EXPECT_TRUE(c.static_fields.empty());
  }
}

TEST(ZeroConfigDetection, JsonWithResourceFieldsWhereStdoutIsCollected) {
  hydra::LoggerConfig c;
  c.static_fields = {{"host.name", "mine"}};  // the program's own value stays
  hydra::apply_zero_config(c, kubernetes_environment());
  const auto& d = c.layers.at("DEFAULT").destinations.at(0);
  EXPECT_EQ(d.format, "json");
  EXPECT_EQ(d.color_mode, hydra::ColorMode::never);
  EXPECT_EQ(c.static_fields, (Fields{{"host.name", "mine"},
                                     {"k8s.namespace.name", "prod"},
                                     {"k8s.pod.name", "shop-1"},
                                     {"k8s.node.name", "node-3"}}));

  Environment run;
  run.cloud = Environment::Cloud{CloudPlatform::gcp_cloud_run, "", "K_SERVICE"};
  hydra::LoggerConfig g;
  hydra::apply_zero_config(g, run);
  EXPECT_EQ(g.layers.at("DEFAULT").destinations.at(0).format, "gcp_json");

  Environment vm;  // a VM alone does not mean an agent reads stdout
  vm.cloud =
      Environment::Cloud{CloudPlatform::aws_ec2, "eu-west-1", "/sys/class/dmi/id/sys_vendor"};
  hydra::LoggerConfig v;
  hydra::apply_zero_config(v, vm);
  EXPECT_EQ(v.layers.at("DEFAULT").destinations.at(0).format, "text");
}

// Every variable detection reads, to take the ambient environment (a CI
// runner, a cluster) out of the tests that go through the real process
// environment.
const char* const kDetectionVariables[] = {"CI",
                                           "GITHUB_ACTIONS",
                                           "GITLAB_CI",
                                           "CIRCLECI",
                                           "TRAVIS",
                                           "JENKINS_URL",
                                           "BUILDKITE",
                                           "TF_BUILD",
                                           "TEAMCITY_VERSION",
                                           "BITBUCKET_BUILD_NUMBER",
                                           "CODEBUILD_BUILD_ID",
                                           "DRONE",
                                           "APPVEYOR",
                                           "container",
                                           "KUBERNETES_SERVICE_HOST",
                                           "POD_NAME",
                                           "K8S_POD_NAME",
                                           "MY_POD_NAME",
                                           "POD_NAMESPACE",
                                           "K8S_POD_NAMESPACE",
                                           "K8S_NAMESPACE",
                                           "MY_POD_NAMESPACE",
                                           "NODE_NAME",
                                           "K8S_NODE_NAME",
                                           "MY_NODE_NAME",
                                           "AWS_LAMBDA_FUNCTION_NAME",
                                           "AWS_LAMBDA_FUNCTION_VERSION",
                                           "ECS_CONTAINER_METADATA_URI_V4",
                                           "ECS_CONTAINER_METADATA_URI",
                                           "AWS_EXECUTION_ENV",
                                           "AWS_REGION",
                                           "AWS_DEFAULT_REGION",
                                           "FUNCTION_TARGET",
                                           "FUNCTION_NAME",
                                           "FUNCTION_REGION",
                                           "K_SERVICE",
                                           "K_REVISION",
                                           "CLOUD_RUN_JOB",
                                           "CLOUD_RUN_EXECUTION",
                                           "GAE_SERVICE",
                                           "GAE_VERSION",
                                           "FUNCTIONS_WORKER_RUNTIME",
                                           "FUNCTIONS_EXTENSION_VERSION",
                                           "CONTAINER_APP_NAME",
                                           "CONTAINER_APP_REVISION",
                                           "WEBSITE_SITE_NAME",
                                           "REGION_NAME",
                                           "OTEL_SERVICE_NAME",
                                           "OTEL_RESOURCE_ATTRIBUTES",
                                           "HYDRA_LOG_PRESET",
                                           "HYDRA_LOG_CONFIG",
                                           "HYDRA_LOG_LEVEL",
                                           "HYDRA_LOG_FORMAT",
                                           "HYDRA_LOG_DIR",
                                           "HYDRA_LOG_REDACT_SENSITIVE"};

// The process environment with every detection variable unset, then `vars`.
class DetectionEnv : public hydra::test::ScopedEnv {
 public:
  explicit DetectionEnv(const std::map<std::string, std::string>& vars) {
    for (const char* name : kDetectionVariables) set(name, std::nullopt);
    for (const auto& [name, value] : vars) set(name, value);
  }
};

class ZeroConfigLogger : public testing::TestWithParam<hydra::LoggerMode> {};
INSTANTIATE_TEST_SUITE_P(BothModes, ZeroConfigLogger,
                         testing::Values(hydra::LoggerMode::sync, hydra::LoggerMode::async),
                         [](const auto& info) {
                           return info.param == hydra::LoggerMode::sync ? "sync" : "async";
                         });

TEST_P(ZeroConfigLogger, WritesJsonLinesWithResourceFieldsOnKubernetes) {
  const DetectionEnv env({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
                          {"POD_NAME", "shop-7d4b9-x2x"},
                          {"POD_NAMESPACE", "prod"},
                          {"OTEL_SERVICE_NAME", "shop"}});
  testing::internal::CaptureStdout();  // stdout is a file, not a terminal
  {
    hydra::LoggerConfig zero;
    zero.mode = GetParam();
    hydra::Logger log(zero);
    log.info("user {user} logged in", "alice");
  }
  const std::string out = testing::internal::GetCapturedStdout();
  const auto lines = hydra::test::split_lines(out);
  ASSERT_EQ(lines.size(), 1u) << out;
  const auto j = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(j["message"], "user alice logged in");
  EXPECT_EQ(j["level"], "info");
  const auto& f = j["fields"];
  EXPECT_EQ(f["service.name"], "shop");
  EXPECT_EQ(f["k8s.pod.name"], "shop-7d4b9-x2x");
  EXPECT_EQ(f["k8s.namespace.name"], "prod");
  EXPECT_EQ(f["user"], "alice");
  EXPECT_LT(lines[0].find("\"k8s.pod.name\""), lines[0].find("\"user\""))
      << "static fields come first";
}

// --- static fields ------------------------------------------------------

class StaticFields : public testing::TestWithParam<hydra::LoggerMode> {};
INSTANTIATE_TEST_SUITE_P(BothModes, StaticFields,
                         testing::Values(hydra::LoggerMode::sync, hydra::LoggerMode::async),
                         [](const auto& info) {
                           return info.param == hydra::LoggerMode::sync ? "sync" : "async";
                         });

TEST_P(StaticFields, ComeBeforeEachRecordsOwn) {
  auto sink = std::make_shared<hydra::MemorySink>();
  {
    hydra::LoggerConfig c;
    c.mode = GetParam();
    c.static_fields = {{"service.name", "shop"}, {"region", "eu"}};
    c.layers["APP"].destinations = {hydra::to_sink(sink, "json")};
    hydra::Logger log(c);
    log.info("order {id}", 42);
    log.info("plain");
  }
  const auto lines = sink->lines();
  ASSERT_EQ(lines.size(), 2u);
  const auto first = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(first["fields"].size(), 3u);
  EXPECT_EQ(first["fields"]["id"], 42);
  // nlohmann sorts keys; the line itself keeps the record's order.
  EXPECT_LT(lines[0].find("\"service.name\""), lines[0].find("\"region\""));
  EXPECT_LT(lines[0].find("\"region\""), lines[0].find("\"id\""));
  EXPECT_EQ(nlohmann::json::parse(lines[1])["fields"]["region"], "eu");
}

// --- the auto preset ----------------------------------------------------

hydra::LoggerConfig auto_for(const Environment& e) {
  hydra::MagicOptions o;
  o.environment = e;
  return hydra::magic("auto", o);
}

TEST(AutoPreset, IsListed) {
  EXPECT_TRUE(hydra::has_magic("auto"));
}

TEST(AutoPreset, ColourTextOnATerminal) {
  Environment e = kubernetes_environment();
  e.stdout_is_tty = true;
  const hydra::LoggerConfig c = auto_for(e);
  EXPECT_EQ(c.mode, hydra::LoggerMode::sync);
  EXPECT_EQ(c.default_level, hydra::Level::debug);
  const auto& d = c.layers.at("DEFAULT").destinations;
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].format, "text");
  EXPECT_EQ(d[0].color_mode, hydra::ColorMode::automatic);
  EXPECT_TRUE(c.static_fields.empty());
  EXPECT_EQ(hydra::auto_reason(e), "terminal (stdout is a TTY)");
}

TEST(AutoPreset, PlainTextInCiEvenInAContainer) {
  Environment e;
  e.ci = Environment::Ci{"github_actions", "GITHUB_ACTIONS"};
  e.container = Environment::Container{ContainerRuntime::docker, "/.dockerenv"};
  const hydra::LoggerConfig c = auto_for(e);
  EXPECT_EQ(c.mode, hydra::LoggerMode::sync);
  const auto& d = c.layers.at("DEFAULT").destinations.at(0);
  EXPECT_EQ(d.format, "text");
  EXPECT_EQ(d.color_mode, hydra::ColorMode::never);
  EXPECT_TRUE(c.static_fields.empty());
  EXPECT_EQ(hydra::auto_reason(e), "ci github_actions (GITHUB_ACTIONS)");
}

TEST(AutoPreset, JsonLinesWithResourceFieldsInContainersAndClouds) {
  Environment docker;
  docker.container = Environment::Container{ContainerRuntime::docker, "/.dockerenv"};
  docker.host_name = "3f1c9e0d";
  Environment run;
  run.cloud = Environment::Cloud{CloudPlatform::gcp_cloud_run, "", "K_SERVICE"};
  run.service_name = "shop";
  run.service_version = "shop-00042";
  for (const Environment& e : {docker, kubernetes_environment(), run}) {
    const hydra::LoggerConfig c = auto_for(e);
    EXPECT_EQ(c.mode, hydra::LoggerMode::async);
    EXPECT_EQ(c.default_level, hydra::Level::info);
    EXPECT_TRUE(c.crash_handler);
    const auto& d = c.layers.at("DEFAULT").destinations;
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].type, "console");
    EXPECT_EQ(d[0].format, hydra::json_format_for(e));
    EXPECT_EQ(d[0].color_mode, hydra::ColorMode::never);
    EXPECT_EQ(c.static_fields, e.resource_fields());
  }
  EXPECT_EQ(auto_for(run).layers.at("DEFAULT").destinations.at(0).format, "gcp_json");
  EXPECT_EQ(field(auto_for(run).static_fields, "service.version"), "shop-00042");
  EXPECT_EQ(hydra::auto_reason(docker), "docker container (/.dockerenv)");
  EXPECT_EQ(hydra::auto_reason(kubernetes_environment()), "kubernetes (KUBERNETES_SERVICE_HOST)");
  EXPECT_EQ(hydra::auto_reason(run), "gcp_cloud_run (K_SERVICE)");
}

TEST(AutoPreset, TextWhenNothingIsDetected) {
  const hydra::LoggerConfig c = auto_for(Environment{});
  EXPECT_EQ(c.mode, hydra::LoggerMode::sync);
  EXPECT_EQ(c.default_level, hydra::Level::info);
  EXPECT_EQ(c.layers.at("DEFAULT").destinations.at(0).format, "text");
  EXPECT_EQ(hydra::auto_reason(Environment{}), "no terminal, CI, container or cloud runtime");
}

// Through the loader the preset sees the loader's Env (here a fake one) and
// keeps its resource fields, which files cannot spell yet.
TEST(AutoPreset, FromAFileWithTheLoadersEnvironment) {
  TempDir dir;
  testing::internal::CaptureStdout();  // stdout not a terminal, whoever runs the test
  const hydra::LoggerConfig c = hydra::test::load_text(
      dir, "app.toml", "preset = \"auto\"\nmode = \"sync\"\n",
      hydra::env_from_map({{"K_SERVICE", "shop"}, {"K_REVISION", "shop-00042"}}));
  testing::internal::GetCapturedStdout();
  EXPECT_EQ(c.mode, hydra::LoggerMode::sync);  // the file wins over the preset
  EXPECT_EQ(c.layers.at("DEFAULT").destinations.at(0).format, "gcp_json");
  EXPECT_EQ(field(c.static_fields, "service.name"), "shop");
  EXPECT_EQ(field(c.static_fields, "cloud.platform"), "gcp_cloud_run");
}

TEST(AutoPreset, ResolveConfigCreditsDetection) {
  TempDir dir;
  const std::string path = dir.file("app.toml");
  hydra::test::write_file(path, "preset = \"auto\"\nname = \"shop\"\n");
  hydra::ConfigSources sources;
  sources.file = path;
  sources.env = hydra::env_from_map({{"K_SERVICE", "shop"}});
  testing::internal::CaptureStdout();
  const hydra::ResolvedConfig r = hydra::resolve_config(sources);
  testing::internal::GetCapturedStdout();
  const std::string detection = "detection gcp_cloud_run (K_SERVICE)";
  EXPECT_EQ(r.values.at("layers.DEFAULT.destinations[0].format"), "\"gcp_json\"");
  EXPECT_EQ(r.origins.at("layers.DEFAULT.destinations[0].format"), detection);
  EXPECT_EQ(r.origins.at("mode"), detection);
  EXPECT_EQ(r.values.at("static_fields.service.name"), "\"shop\"");
  EXPECT_EQ(r.origins.at("static_fields.service.name"), detection);
  EXPECT_EQ(r.origins.at("name"), path + ":2");
  EXPECT_EQ(field(r.config.static_fields, "service.name"), "shop");
  EXPECT_EQ(field(r.config.static_fields, "cloud.platform"), "gcp_cloud_run");
}

TEST(AutoPreset, OtherPresetsAreStillCreditedToThemselves) {
  hydra::ConfigSources sources;
  sources.preset = "testing";
  sources.env = hydra::env_from_map({{"K_SERVICE", "shop"}});
  const hydra::ResolvedConfig r = hydra::resolve_config(sources);
  EXPECT_EQ(r.origins.at("layers.DEFAULT.destinations[0].format"), "preset testing");
}

TEST(GcpJsonFormat, AcceptedByFilesAndTheEnvironment) {
  TempDir dir;
  const hydra::LoggerConfig c = hydra::test::load_text(
      dir, "g.yaml", "layers:\n  APP:\n    destinations:\n      - format: gcp_json\n");
  EXPECT_EQ(c.layers.at("APP").destinations.at(0).format, "gcp_json");
  hydra::LoggerConfig e = c;
  e.layers.at("APP").destinations.at(0).format = "text";
  hydra::apply_environment(e, hydra::env_from_map({{"HYDRA_LOG_FORMAT", "gcp_json"}}));
  EXPECT_EQ(e.layers.at("APP").destinations.at(0).format, "gcp_json");
}

#if defined(HYDRA_CLI)

TEST(AutoPreset, ExplainShowsDetectionAsTheOrigin) {
  const DetectionEnv env({{"HYDRA_LOG_PRESET", "auto"}, {"K_SERVICE", "shop"}});
  const auto r = hydra::test::run_process({HYDRA_CLI, "config", "explain"}, "");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  bool format_line = false;
  bool service_line = false;
  for (const auto& line : hydra::test::split_lines(r.out)) {
    const bool by_detection = line.ends_with("# detection gcp_cloud_run (K_SERVICE)");
    if (line.starts_with("layers.DEFAULT.destinations[0].format = \"gcp_json\"")) {
      format_line = by_detection;
    }
    if (line.starts_with("static_fields.service.name = \"shop\"")) service_line = by_detection;
  }
  EXPECT_TRUE(format_line) << r.out;
  EXPECT_TRUE(service_line) << r.out;
}

TEST(AutoPreset, ListedByTheCommand) {
  const auto r = hydra::test::run_process({HYDRA_CLI, "config", "presets"}, "");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("auto "), std::string::npos) << r.out;
}

#endif

}  // namespace
