// ConfigWatcher: inotify on the configuration file's directory (a file
// replaced by rename keeps no watch of its own), a thread that polls it and a
// stop eventfd, and one resolve_config() + Logger::reconfigure() per change.
#include "hydra/config/watch.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>

#include "hydra/core/error.hpp"

namespace hydra {

namespace {

std::string errno_text(int err) {
  return std::strerror(err);  // NOLINT(concurrency-mt-unsafe): set-up only
}

// Closes a descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) noexcept : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd& operator=(Fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  Fd(Fd&&) = delete;
  int get() const noexcept { return fd_; }

 private:
  int fd_;
};

// Kubernetes mounts a ConfigMap as symlinks through `..data`, which it
// replaces by a rename when the ConfigMap changes.
constexpr std::string_view kConfigMapLink = "..data";

}  // namespace

struct ConfigWatcher::Impl {
  Logger& logger;
  ConfigSources sources;
  std::function<void(const ReloadResult&)> on_reload;
  std::filesystem::path path;
  std::string file_name;
  Fd inotify;
  Fd stop;
  std::thread thread;

  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  std::uint64_t attempts = 0;        // under mutex
  std::optional<ReloadResult> last;  // under mutex

  Impl(Logger& l, ConfigSources s, std::function<void(const ReloadResult&)> callback)
      : logger(l), sources(std::move(s)), on_reload(std::move(callback)) {}

  void reload() {
    ReloadResult result;
    try {
      logger.reconfigure(resolve_config(sources).config);
      result.ok = true;
    } catch (const std::exception& e) {
      result.error = e.what();
    }
    {
      std::lock_guard lock(mutex);
      result.attempt = attempts + 1;
    }
    if (on_reload) {
      on_reload(result);
    } else if (!result.ok) {
      std::fprintf(stderr,
                   "hydra: reloading %s failed; the logger keeps its previous configuration: %s\n",
                   path.c_str(), result.error.c_str());
    }
    {
      std::lock_guard lock(mutex);
      attempts = result.attempt;
      last = std::move(result);
    }
    changed.notify_all();
  }

  // Reads every pending event; true when one of them is about our file.
  bool drain_events() {
    alignas(inotify_event) std::array<char, 8192> buffer{};
    bool relevant = false;
    for (;;) {
      const ssize_t n = ::read(inotify.get(), buffer.data(), buffer.size());
      if (n <= 0) return relevant;  // EAGAIN: nothing more for now
      for (ssize_t at = 0; at < n;) {
        const auto* event = reinterpret_cast<const inotify_event*>(buffer.data() + at);
        at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
        if (event->len == 0) continue;
        const std::string_view name(event->name);
        if (name == file_name || name == kConfigMapLink) relevant = true;
      }
    }
  }

  void run() {
    std::array<pollfd, 2> fds{pollfd{inotify.get(), POLLIN, 0}, pollfd{stop.get(), POLLIN, 0}};
    for (;;) {
      if (::poll(fds.data(), fds.size(), -1) < 0) {
        if (errno == EINTR) continue;
        std::fprintf(stderr, "hydra: watching %s stopped: poll: %s\n", path.c_str(),
                     errno_text(errno).c_str());
        return;
      }
      if ((fds[1].revents & POLLIN) != 0) return;
      if ((fds[0].revents & POLLIN) != 0 && drain_events()) reload();
    }
  }
};

ConfigWatcher::ConfigWatcher(Logger& logger, ConfigSources sources,
                             std::function<void(const ReloadResult&)> on_reload)
    : impl_(std::make_unique<Impl>(logger, std::move(sources), std::move(on_reload))) {
  Impl& im = *impl_;
  if (!im.sources.file) {
    if (auto named = im.sources.env("HYDRA_LOG_CONFIG"); named && !named->empty()) {
      im.sources.file = *named;
    }
  }
  if (!im.sources.file || im.sources.file->empty()) {
    throw ConfigError(
        "watch: no configuration file to watch (set ConfigSources::file or "
        "HYDRA_LOG_CONFIG)");
  }
  im.path = std::filesystem::absolute(*im.sources.file);
  im.sources.file = im.path;  // the same file, whatever the working directory becomes
  im.file_name = im.path.filename().string();
  const std::filesystem::path dir = im.path.parent_path();

  im.inotify = Fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (im.inotify.get() < 0) {
    throw ConfigError("watch " + im.path.string() + ": inotify_init1: " + errno_text(errno));
  }
  if (::inotify_add_watch(im.inotify.get(), dir.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
    throw ConfigError("watch " + im.path.string() + ": cannot watch its directory " + dir.string() +
                      ": " + errno_text(errno));
  }
  im.stop = Fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (im.stop.get() < 0) {
    throw ConfigError("watch " + im.path.string() + ": eventfd: " + errno_text(errno));
  }
  im.thread = std::thread([&im] { im.run(); });
}

ConfigWatcher::~ConfigWatcher() {
  const std::uint64_t one = 1;
  (void)!::write(impl_->stop.get(), &one, sizeof(one));
  if (impl_->thread.joinable()) impl_->thread.join();
}

const std::filesystem::path& ConfigWatcher::path() const noexcept {
  return impl_->path;
}

std::uint64_t ConfigWatcher::attempts() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->attempts;
}

std::optional<ReloadResult> ConfigWatcher::wait_for_attempt(
    std::uint64_t attempt, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  impl_->changed.wait_for(lock, timeout, [&] { return impl_->attempts >= attempt; });
  return impl_->last;
}

}  // namespace hydra
