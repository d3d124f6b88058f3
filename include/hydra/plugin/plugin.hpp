// What every plugin instance shares: its lifecycle. A registry's factory
// creates an instance from its options; the logger then calls start() once,
// reconfigure() on each configuration reload that keeps the instance, stop()
// before it lets go of it, and health() whenever asked. A plugin that throws
// is caught at the boundary and counted (see docs/plugins.md, "Failures").
#pragma once

#include <string>

#include "hydra/plugin/options.hpp"

namespace hydra::plugin {

class Plugin {
 public:
  virtual ~Plugin() = default;
  virtual void start() {}
  // Applies the options of a reloaded configuration (already validated).
  // Returns false when the instance cannot take them: the logger then stops
  // it and makes a new one.
  virtual bool reconfigure(const Options& /*options*/) { return false; }
  virtual void stop() {}
  // A JSON object: {"ok": true} and whatever the plugin wants to add.
  virtual std::string health() const { return R"({"ok":true})"; }
};

}  // namespace hydra::plugin
