// hydra_logger._native: the Python package's bridge to the C++ core.
//
// A NativeLogger owns one hydra::Logger. Python checks levels itself (with
// the per-layer table `levels()` returns) and calls log() only for records
// that will be written. log() copies the message and fields into the
// logger's pipeline (the per-thread queue in async mode) and returns; the
// backend thread formats and writes, and never touches a Python object.
//
// The GIL: held for the whole of log() (converting Python objects needs it),
// except while a full queue makes the call wait (the block and automatic
// policies: the blocking hooks release it). flush(), shutdown() and
// reconfiguring release it: they wait for the backend. No native lock is ever
// held while Python code runs, so a thread holding a native lock never waits
// for the GIL (the two-lock deadlock of picologging #207).
#include <Python.h>
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "hydra/async/async_options.hpp"
#include "hydra/config/config.hpp"
#include "hydra/config/environment.hpp"
#include "hydra/config/loader.hpp"
#include "hydra/config/presets.hpp"
#include "hydra/core/error.hpp"
#include "hydra/core/level.hpp"
#include "hydra/core/logger.hpp"

namespace py = pybind11;

namespace {

constexpr int kLevels = 9;  // trace .. compliance, in hydra::Level's order

// The blocking hooks: a Python thread waiting for room in a full queue lets
// the others run. Only a thread that holds the GIL releases it (the backend's
// own notices never wait here, and other C++ threads hold no GIL).
thread_local PyThreadState* t_saved = nullptr;
void before_wait() {
  if (PyGILState_Check() != 0) t_saved = PyEval_SaveThread();
}
void after_wait() {
  if (t_saved != nullptr) {
    PyThreadState* state = t_saved;
    t_saved = nullptr;
    PyEval_RestoreThread(state);
  }
}

// A Python str as UTF-8. A string that is not valid Unicode (lone
// surrogates, as `surrogateescape` makes of undecodable bytes) goes through
// as its raw bytes; the formats escape invalid UTF-8 like any hostile input.
// `keep` holds any bytes object made for it until the record is written.
std::string_view utf8_of(PyObject* str, std::vector<PyObject*>& keep) {
  Py_ssize_t size = 0;
  if (const char* data = PyUnicode_AsUTF8AndSize(str, &size)) {
    return {data, static_cast<std::size_t>(size)};
  }
  PyErr_Clear();
  PyObject* bytes = PyUnicode_AsEncodedString(str, "utf-8", "surrogateescape");
  if (bytes == nullptr) {
    PyErr_Clear();
    bytes = PyUnicode_AsEncodedString(str, "utf-8", "replace");
    if (bytes == nullptr) {
      PyErr_Clear();
      return "<unencodable>";
    }
  }
  keep.push_back(bytes);
  return {PyBytes_AS_STRING(bytes), static_cast<std::size_t>(PyBytes_GET_SIZE(bytes))};
}

// str(value), or a placeholder naming its type when __str__ raises: a
// record is never lost to a field that cannot be printed.
std::string_view text_of(PyObject* value, std::vector<PyObject*>& keep) {
  PyObject* text = PyObject_Str(value);
  if (text == nullptr) {
    PyErr_Clear();
    std::string placeholder = "<unprintable ";
    placeholder += Py_TYPE(value)->tp_name;
    placeholder += ">";
    text = PyUnicode_FromStringAndSize(placeholder.data(),
                                       static_cast<Py_ssize_t>(placeholder.size()));
    if (text == nullptr) {
      PyErr_Clear();
      return "<unprintable>";
    }
  }
  keep.push_back(text);
  return utf8_of(text, keep);
}

// A record's message: a str as it is, anything else (an exception, a
// number) printed.
std::string_view message_text(PyObject* message, std::vector<PyObject*>& keep) {
  return PyUnicode_Check(message) != 0 ? utf8_of(message, keep) : text_of(message, keep);
}

hydra::FieldValue value_of(PyObject* value, std::vector<PyObject*>& keep) {
  if (value == Py_None) return {};
  if (PyBool_Check(value)) return value == Py_True;
  if (PyLong_Check(value)) {  // int and its subclasses (IntEnum, HTTPStatus)
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (overflow == 0 && !(v == -1 && PyErr_Occurred() != nullptr)) {
      return static_cast<std::int64_t>(v);
    }
    PyErr_Clear();
    if (overflow > 0) {
      const unsigned long long u = PyLong_AsUnsignedLongLong(value);
      if (!(u == static_cast<unsigned long long>(-1) && PyErr_Occurred() != nullptr)) {
        return static_cast<std::uint64_t>(u);
      }
      PyErr_Clear();
    }
    return text_of(value, keep);  // past 64 bits: its digits
  }
  if (PyFloat_Check(value)) return PyFloat_AsDouble(value);
  if (PyUnicode_Check(value)) return utf8_of(value, keep);
  return text_of(value, keep);
}

// Appends a mapping's items (a dict, or a tuple of (key, value) pairs) as
// fields. Keys that are not str are printed.
void append_fields(PyObject* items, std::vector<hydra::Field>& fields,
                   std::vector<PyObject*>& keep) {
  if (items == nullptr || items == Py_None) return;
  if (PyDict_Check(items)) {
    Py_ssize_t pos = 0;
    PyObject* key = nullptr;
    PyObject* value = nullptr;
    while (PyDict_Next(items, &pos, &key, &value)) {
      const std::string_view k = PyUnicode_Check(key) ? utf8_of(key, keep) : text_of(key, keep);
      fields.push_back({k, value_of(value, keep)});
    }
    return;
  }
  if (PyTuple_Check(items)) {
    const Py_ssize_t n = PyTuple_GET_SIZE(items);
    for (Py_ssize_t i = 0; i < n; ++i) {
      PyObject* pair = PyTuple_GET_ITEM(items, i);
      if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) continue;
      PyObject* key = PyTuple_GET_ITEM(pair, 0);
      const std::string_view k = PyUnicode_Check(key) ? utf8_of(key, keep) : text_of(key, keep);
      fields.push_back({k, value_of(PyTuple_GET_ITEM(pair, 1), keep)});
    }
    return;
  }
  throw py::type_error("fields must be a dict or a tuple of (key, value) pairs");
}

// One field per key: a call's own fields (its keywords, then %-arguments,
// extra and a view's bound pairs) win over the context's, the first of them
// over later ones; in the context (outer scopes first) an inner scope's
// value wins over an outer one's.
void keep_one_per_key(std::vector<hydra::Field>& fields, std::size_t context_begin) {
  const std::size_t n = fields.size();
  if (n < 2) return;
  std::unordered_set<std::string_view> kept_keys;  // used past a few fields
  const bool small = n <= 16;
  std::size_t out = 0;
  std::size_t call_kept = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string_view key = fields[i].key;
    bool drop = false;
    if (i < context_begin) {
      if (small) {
        for (std::size_t j = 0; j < out && !drop; ++j) drop = fields[j].key == key;
      } else {
        drop = !kept_keys.insert(key).second;
      }
    } else {
      if (small) {
        for (std::size_t j = 0; j < call_kept && !drop; ++j) drop = fields[j].key == key;
      } else {
        drop = kept_keys.contains(key);
      }
      for (std::size_t j = i + 1; j < n && !drop; ++j) drop = fields[j].key == key;
    }
    if (drop) continue;
    fields[out++] = fields[i];
    if (i < context_begin) call_kept = out;
  }
  fields.resize(out);
}

// Per-thread scratch for log(): no allocation once warm.
struct Scratch {
  std::vector<hydra::Field> fields;
  std::vector<PyObject*> keep;
};
thread_local Scratch t_scratch;
thread_local int t_scratch_users = 0;

// The scratch of one log call, released (its objects too) when the call
// ends. A call made while another is converting its fields on the same
// thread (a field's __str__ that logs) gets a scratch of its own.
class ScratchUse {
 public:
  ScratchUse() : nested_(t_scratch_users++ > 0 ? std::make_unique<Scratch>() : nullptr) {}
  ~ScratchUse() {
    Scratch& s = scratch();
    for (PyObject* o : s.keep) Py_DECREF(o);
    s.keep.clear();
    s.fields.clear();
    --t_scratch_users;
  }
  ScratchUse(const ScratchUse&) = delete;
  ScratchUse& operator=(const ScratchUse&) = delete;
  Scratch& scratch() { return nested_ != nullptr ? *nested_ : t_scratch; }

 private:
  std::unique_ptr<Scratch> nested_;
};

struct ConfigErrorTag : std::exception {};

hydra::Level level_at(int index) {
  if (index < 0 || index >= kLevels) {
    throw py::value_error("level index " + std::to_string(index) + " is not in 0.." +
                          std::to_string(kLevels - 1));
  }
  return static_cast<hydra::Level>(index);
}

class NativeLogger {
 public:
  explicit NativeLogger(hydra::LoggerConfig config)
      : default_layer_(config.default_layer), logger_(std::make_unique<hydra::Logger>(config)) {
    name_ = logger_->name();
  }

  // The layer's index for log(): "" is each level's default layer (the
  // configuration's default_layer; SECURITY, AUDIT, COMPLIANCE for those
  // levels).
  int layer_id(const std::string& name) {
    if (auto it = ids_.find(name); it != ids_.end()) return it->second;
    const int id = static_cast<int>(layers_.size());
    if (name.empty()) {
      for (int l = 0; l < kLevels; ++l) {
        const auto level = static_cast<hydra::Level>(l);
        std::string_view layer = default_layer_;
        if (level == hydra::Level::security) layer = "SECURITY";
        if (level == hydra::Level::audit) layer = "AUDIT";
        if (level == hydra::Level::compliance) layer = "COMPLIANCE";
        layers_.push_back(logger_->layer(layer));
      }
    } else {
      for (int l = 0; l < kLevels; ++l) layers_.push_back(logger_->layer(name));
    }
    ids_.emplace(name, id);
    return id;
  }

  // Which levels a record of this layer would be written at, by level index.
  std::array<bool, kLevels> levels(int id) const {
    std::array<bool, kLevels> out{};
    for (int l = 0; l < kLevels; ++l) {
      out[l] = layers_.at(id + l).should_log(static_cast<hydra::Level>(l));
    }
    return out;
  }

  void log(int level, int id, py::handle message, py::handle fields, py::handle context,
           py::handle more) {
    const hydra::Level lv = level_at(level);
    if (id < 0 || static_cast<std::size_t>(id) + kLevels > layers_.size()) {
      throw py::value_error("unknown layer id " + std::to_string(id));
    }
    if (closed_) return;  // close() raced this call: the logger is shut down
    ScratchUse use;
    Scratch& s = use.scratch();
    const std::string_view text = message_text(message.ptr(), s.keep);
    append_fields(fields.ptr(), s.fields, s.keep);
    write_record(s, lv, id, text, more.ptr(), context.ptr());
  }

  void set_level(const std::string& layer, int level) {
    logger_->set_level(layer.empty() ? std::string_view(default_layer_) : layer, level_at(level));
  }

  void flush() {
    py::gil_scoped_release unlocked;
    logger_->flush();
  }

  void shutdown() {
    closed_ = true;  // under the GIL, as every log call's check
    py::gil_scoped_release unlocked;
    logger_->shutdown();
  }

  bool closed() const { return closed_; }

  void preallocate() { logger_->preallocate(); }

  // The fast call (LevelMethod): the message, then fields given as keyword
  // names and their values, then the context's and the view's pairs.
  void write_call(int level, int id, PyObject* message, PyObject* const* values, PyObject* names,
                  Py_ssize_t skip, PyObject* context, PyObject* more) {
    ScratchUse use;
    Scratch& s = use.scratch();
    const std::string_view text = message_text(message, s.keep);
    if (names != nullptr) {
      const Py_ssize_t n = PyTuple_GET_SIZE(names);
      for (Py_ssize_t i = 0; i < n; ++i) {
        if (i == skip) continue;
        s.fields.push_back(
            {utf8_of(PyTuple_GET_ITEM(names, i), s.keep), value_of(values[i], s.keep)});
      }
    }
    write_record(s, static_cast<hydra::Level>(level), id, text, more, context);
  }

  py::dict metrics() const {
    const hydra::LoggerMetrics m = logger_->metrics();
    py::dict out;
    out["records"] = m.records;
    out["fallback_records"] = m.fallback_records;
    out["write_errors"] = m.write_errors;
    out["format_errors"] = m.format_errors;
    out["protect_dropped"] = m.protect_dropped;
    out["sink_dropped_records"] = m.sink_dropped_records;
    out["sink_dropped_bytes"] = m.sink_dropped_bytes;
    out["filter_dropped"] = m.filter_dropped;
    const hydra::AsyncMetrics& a = m.async;
    py::dict async;
    async["enabled"] = a.enabled;
    async["records_in"] = a.records_in;
    async["records_out"] = a.records_out;
    async["dropped"] = a.dropped_full;
    async["sync_writes"] = a.sync_writes;
    async["blocked_waits"] = a.blocked_waits;
    async["queue_grows"] = a.queue_grows;
    async["threads"] = a.threads.size();
    async["backend_lag_us"] =
        std::chrono::duration_cast<std::chrono::microseconds>(a.backend_lag).count();
    out["async"] = async;
    return out;
  }

  const std::string& name() const { return name_; }
  std::string insights() const { return logger_->insights(); }

 private:
  // After the call's own fields in `s`: the call's or the view's pairs
  // (`more`), then the context's; one field per key; then the record goes to
  // the layer's pipeline.
  void write_record(Scratch& s, hydra::Level level, int id, std::string_view text, PyObject* more,
                    PyObject* context) {
    append_fields(more, s.fields, s.keep);
    const std::size_t context_begin = s.fields.size();
    append_fields(context, s.fields, s.keep);
    keep_one_per_key(s.fields, context_begin);
    layers_[static_cast<std::size_t>(id) + static_cast<std::size_t>(level)].write(level, text,
                                                                                  s.fields);
  }

  std::string default_layer_;
  std::string name_;
  std::unique_ptr<hydra::Logger> logger_;
  std::vector<hydra::LayerLogger> layers_;  // kLevels per layer id
  std::unordered_map<std::string, int> ids_;
  bool closed_ = false;
};

hydra::LoggerConfig with_environment(hydra::LoggerConfig config) {
  hydra::apply_environment(config);
  return config;
}

void check_mode(const std::optional<std::string>& mode) {
  if (mode && *mode != "async" && *mode != "sync") {
    throw hydra::ConfigError("mode: '" + *mode + "' is not sync or async");
  }
}

// The Python program's own settings (HydraLogger's name= and mode=), which
// win over a file, a preset and the environment, as code does in C++.
void apply_code(hydra::LoggerConfig& config, const std::optional<std::string>& name,
                const std::optional<std::string>& mode) {
  check_mode(mode);
  if (name) config.name = *name;
  if (mode) config.mode = *mode == "async" ? hydra::LoggerMode::async : hydra::LoggerMode::sync;
}

std::unique_ptr<NativeLogger> make(hydra::LoggerConfig config) {
  // Building a logger opens files and may start threads; the GIL is not
  // needed for it (a preset factory registered from Python takes it itself).
  return std::make_unique<NativeLogger>(std::move(config));
}

// A level method (`log.info`) as a vectorcall object, stored on each
// logger instance: the whole of a usual call, `log.info("text", k=v)` with
// the default or a named layer, is one C call with no Python frame and no
// dict for the keywords. Anything else (%-arguments, extra, exc_info, the
// Python project's `info("LAYER", "text")`, a layer not looked up yet) goes
// to `slow`, the Python method, which does the same with more work.
struct LevelMethodObject {
  PyObject_HEAD vectorcallfunc vectorcall;
  PyObject* native_ref;  // the NativeLogger's Python object (keeps `native` alive)
  NativeLogger* native;
  int level;
  PyObject* layers;       // dict: layer key -> (native id, enabled at 0..8)
  PyObject* default_key;  // the view's layer: None or a str
  PyObject* bound;        // tuple of pairs, or None
  PyObject* slow;         // the Python method
  PyObject* context_var;  // the context's ContextVar
};

PyObject* g_layer_name = nullptr;  // interned "layer"
// Keywords the slow path handles: extra, exc_info, stack_info, stacklevel.
std::array<PyObject*, 4> g_slow_names{};

// Keyword names from a call site are interned; from `**mapping` they may not be.
bool same_name(PyObject* name, PyObject* interned) {
  if (name == interned) return true;
  return PyUnicode_GET_LENGTH(name) == PyUnicode_GET_LENGTH(interned) &&
         PyUnicode_Compare(name, interned) == 0;
}

PyObject* level_method_call(PyObject* callable, PyObject* const* args, size_t nargsf,
                            PyObject* kwnames) {
  auto* self = reinterpret_cast<LevelMethodObject*>(callable);
  const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  if (self->native->closed()) Py_RETURN_NONE;
  PyObject* layer = self->default_key;
  Py_ssize_t layer_at = -1;
  if (kwnames != nullptr) {
    const Py_ssize_t n = PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t i = 0; i < n; ++i) {
      PyObject* name = PyTuple_GET_ITEM(kwnames, i);
      if (same_name(name, g_layer_name)) {
        layer_at = i;
        if (args[nargs + i] != Py_None) layer = args[nargs + i];
        continue;
      }
      for (PyObject* slow : g_slow_names) {
        if (same_name(name, slow)) return PyObject_Vectorcall(self->slow, args, nargsf, kwnames);
      }
    }
  }
  if (nargs != 1) return PyObject_Vectorcall(self->slow, args, nargsf, kwnames);
  PyObject* entry = PyDict_GetItemWithError(self->layers, layer);  // borrowed
  if (entry == nullptr) {
    if (PyErr_Occurred() != nullptr) return nullptr;
    return PyObject_Vectorcall(self->slow, args, nargsf, kwnames);
  }
  if (PyTuple_GET_ITEM(entry, 1 + self->level) != Py_True) Py_RETURN_NONE;
  const long id = PyLong_AsLong(PyTuple_GET_ITEM(entry, 0));
  PyObject* context = nullptr;
  if (PyContextVar_Get(self->context_var, nullptr, &context) < 0) return nullptr;
  try {
    self->native->write_call(self->level, static_cast<int>(id), args[0], args + nargs, kwnames,
                             layer_at, context, self->bound);
  } catch (...) {
    Py_XDECREF(context);
    throw;
  }
  Py_XDECREF(context);
  Py_RETURN_NONE;
}

PyObject* level_method_vectorcall(PyObject* callable, PyObject* const* args, size_t nargsf,
                                  PyObject* kwnames) {
  try {
    return level_method_call(callable, args, nargsf, kwnames);
  } catch (py::error_already_set& e) {
    e.restore();
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  }
  return nullptr;
}

int level_method_traverse(PyObject* o, visitproc visit, void* arg) {
  auto* self = reinterpret_cast<LevelMethodObject*>(o);
  Py_VISIT(self->native_ref);
  Py_VISIT(self->layers);
  Py_VISIT(self->default_key);
  Py_VISIT(self->bound);
  Py_VISIT(self->slow);
  Py_VISIT(self->context_var);
  return 0;
}

int level_method_clear(PyObject* o) {
  auto* self = reinterpret_cast<LevelMethodObject*>(o);
  Py_CLEAR(self->layers);
  Py_CLEAR(self->default_key);
  Py_CLEAR(self->bound);
  Py_CLEAR(self->slow);
  Py_CLEAR(self->context_var);
  // native_ref last: `native` points into it. A cleared method is never
  // called again (the GC clears only unreachable objects).
  Py_CLEAR(self->native_ref);
  return 0;
}

void level_method_dealloc(PyObject* o) {
  PyObject_GC_UnTrack(o);
  level_method_clear(o);
  Py_TYPE(o)->tp_free(o);
}

PyTypeObject g_level_method_type = [] {
  PyTypeObject t{};
  t.ob_base.ob_base.ob_refcnt = 1;  // a static type, as PyVarObject_HEAD_INIT makes it
  t.tp_name = "hydra_logger._native.LevelMethod";
  t.tp_basicsize = sizeof(LevelMethodObject);
  t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL;
  t.tp_vectorcall_offset = offsetof(LevelMethodObject, vectorcall);
  t.tp_call = PyVectorcall_Call;
  t.tp_traverse = level_method_traverse;
  t.tp_clear = level_method_clear;
  t.tp_dealloc = level_method_dealloc;
  t.tp_doc = "A logger's level method (the fast path of hydra_logger's calls)";
  return t;
}();

py::object make_level_method(py::object native, int level, py::dict layers, py::object default_key,
                             py::object bound, py::function slow, py::object context_var) {
  level_at(level);
  if (!PyContextVar_CheckExact(context_var.ptr()))
    throw py::type_error("context_var: a ContextVar");
  auto* self = PyObject_GC_New(LevelMethodObject, &g_level_method_type);
  if (self == nullptr) throw py::error_already_set();
  self->vectorcall = level_method_vectorcall;
  self->native = native.cast<NativeLogger*>();
  self->level = level;
  self->native_ref = native.release().ptr();
  self->layers = layers.release().ptr();
  self->default_key = default_key.release().ptr();
  self->bound = bound.release().ptr();
  self->slow = slow.release().ptr();
  self->context_var = context_var.release().ptr();
  PyObject_GC_Track(self);
  return py::reinterpret_steal<py::object>(reinterpret_cast<PyObject*>(self));
}

}  // namespace

PYBIND11_MODULE(_native, m) {
  m.doc() = "Hydra-Logger's C++ core, for the hydra_logger package";
  hydra::set_blocking_hooks({before_wait, after_wait});

  static py::exception<ConfigErrorTag> config_error(m, "ConfigError", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const hydra::ConfigError& e) {
      PyErr_SetString(config_error.ptr(), e.what());
    }
  });

  m.attr("LEVELS") = kLevels;
  if (PyType_Ready(&g_level_method_type) < 0) throw py::error_already_set();
  g_layer_name = PyUnicode_InternFromString("layer");
  g_slow_names[0] = PyUnicode_InternFromString("extra");
  g_slow_names[1] = PyUnicode_InternFromString("exc_info");
  g_slow_names[2] = PyUnicode_InternFromString("stack_info");
  g_slow_names[3] = PyUnicode_InternFromString("stacklevel");
  m.def("level_method", &make_level_method, py::arg("native"), py::arg("level"), py::arg("layers"),
        py::arg("default_key"), py::arg("bound"), py::arg("slow"), py::arg("context_var"));

  py::class_<NativeLogger>(m, "NativeLogger")
      .def_static(
          "from_json",
          [](const std::string& text, const std::string& source) {
            return make(
                with_environment(hydra::parse_config(text, hydra::ConfigFormat::json, source)));
          },
          py::arg("text"), py::arg("source") = "<dict>")
      .def_static(
          "from_file",
          [](const std::string& path, std::optional<std::string> name,
             std::optional<std::string> mode) {
            hydra::LoggerConfig config = with_environment(hydra::load_config(path));
            apply_code(config, name, mode);  // the program's own settings win
            return make(std::move(config));
          },
          py::arg("path"), py::arg("name") = py::none(), py::arg("mode") = py::none())
      .def_static(
          "from_sources",
          [](std::optional<std::string> preset, std::optional<std::string> log_dir,
             std::optional<std::string> mode, std::optional<std::string> name) {
            hydra::ConfigSources sources;
            sources.preset = std::move(preset);
            sources.log_dir = std::move(log_dir);
            check_mode(mode);
            sources.code = [mode, name](hydra::LoggerConfig& c) { apply_code(c, name, mode); };
            return make(hydra::resolve_config(sources).config);
          },
          py::arg("preset") = py::none(), py::arg("log_dir") = py::none(),
          py::arg("mode") = py::none(), py::arg("name") = py::none())
      .def("layer_id", &NativeLogger::layer_id)
      .def("levels", &NativeLogger::levels)
      .def("log", &NativeLogger::log, py::arg("level"), py::arg("layer"), py::arg("message"),
           py::arg("fields") = py::none(), py::arg("context") = py::none(),
           py::arg("more") = py::none())
      .def("set_level", &NativeLogger::set_level)
      .def("flush", &NativeLogger::flush)
      .def("preallocate", &NativeLogger::preallocate)
      .def("shutdown", &NativeLogger::shutdown)
      .def("metrics", &NativeLogger::metrics)
      .def("insights", &NativeLogger::insights)
      .def_property_readonly("name", &NativeLogger::name);

  m.def(
      "register_magic",
      [](std::string name, std::string description, py::function factory) {
        // The factory returns a configuration as JSON text (the Python side
        // turns its dict into it). It runs on whichever thread asks for the
        // preset, so it takes the GIL itself. Presets live as long as the
        // process: the function is never freed (freeing it at exit could
        // come after the interpreter is gone).
        auto* holder =
            new py::function(std::move(factory));  // NOLINT(cppcoreguidelines-owning-memory)
        hydra::register_magic(
            std::move(name), std::move(description), [holder](const hydra::MagicOptions& options) {
              std::string text;
              {
                py::gil_scoped_acquire gil;
                text = py::str((*holder)(options.log_dir));
              }
              return hydra::parse_config(text, hydra::ConfigFormat::json, "<magic config>");
            });
      },
      py::arg("name"), py::arg("description"), py::arg("factory"));
  m.def("has_magic", [](const std::string& name) { return hydra::has_magic(name); });
  m.def("list_magic", [] {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& info : hydra::list_magic()) out.emplace_back(info.name, info.description);
    return out;
  });
}
