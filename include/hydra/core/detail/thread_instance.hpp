// Internal: per-thread working storage that stays usable while its thread
// exits. A plain thread_local object is destroyed when its thread exits, and
// for the main thread that happens before atexit handlers and static
// destructors run, which may still log: touching the object then is
// undefined behaviour (Hydra wrote "record lost" notices with garbage in
// them). Not part of the public API.
#pragma once

namespace hydra::detail {

// The calling thread's T, made on first use and destroyed when the thread
// exits. A use after that (an atexit handler, a static destructor) makes a
// fresh T that is never freed: once per thread, and only while it exits.
// `Tag` tells apart two uses of one type.
template <typename T, typename Tag = T>
T& thread_instance() {
  // Constant-initialised and trivially destructible: valid for the whole
  // life of the thread, its exit included.
  static thread_local T* instance = nullptr;
  static thread_local bool exited = false;
  if (instance != nullptr) [[likely]] {
    return *instance;
  }
  instance = new T();  // NOLINT(cppcoreguidelines-owning-memory): freed by Reclaim
  if (!exited) {
    struct Reclaim {
      Reclaim() = default;
      Reclaim(const Reclaim&) = delete;
      Reclaim& operator=(const Reclaim&) = delete;
      ~Reclaim() {
        delete instance;  // NOLINT(cppcoreguidelines-owning-memory)
        instance = nullptr;
        exited = true;
      }
    };
    static thread_local Reclaim reclaim;  // its destructor runs at thread exit
    (void)reclaim;
  }
  return *instance;
}

}  // namespace hydra::detail
