// The development kit (hydra/plugin/sdk.hpp), seen from the host's side of
// the C ABI: the example plugin and the fixtures are opened with dlopen() and
// called through their raw hydra_kind callbacks, without the loader, so that
// what the SDK puts on the boundary is checked on its own.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "hydra/format/formatter.hpp"
#include "hydra/plugin/sdk.hpp"
#include "test_util.hpp"

namespace {

using hydra::sdk::view;

// A shared object and its descriptor.
class Opened {
 public:
  explicit Opened(const std::string& path)
      : handle_(::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) {
    if (handle_ == nullptr) throw std::runtime_error(::dlerror());
    const auto entry =
        reinterpret_cast<hydra_plugin_entry_fn>(::dlsym(handle_, HYDRA_PLUGIN_ENTRY_NAME));
    if (entry == nullptr) throw std::runtime_error(path + ": no entry point");
    descriptor_ = entry();
  }
  // Plugins stay loaded for the life of the process, as the loader keeps them.
  const hydra_plugin_descriptor& descriptor() const { return *descriptor_; }
  const hydra_kind& kind(std::string_view name) const {
    for (std::size_t i = 0; i < descriptor_->kind_count; ++i) {
      const auto* k = reinterpret_cast<const hydra_kind*>(
          reinterpret_cast<const char*>(descriptor_->kinds) + i * descriptor_->kind_size);
      if (name == k->type_name) return *k;
    }
    throw std::runtime_error("no kind " + std::string(name));
  }

 private:
  void* handle_;
  const hydra_plugin_descriptor* descriptor_ = nullptr;
};

std::string fixture(const char* name) {
  return std::string(HYDRA_PLUGIN_FIXTURES "/") + name;
}

// A hydra_buffer that collects into a string.
struct Collected {
  std::string text;
  hydra_buffer buffer{this, [](void* self, const char* data, std::size_t size) {
                        static_cast<Collected*>(self)->text.append(data, size);
                      }};
};

// Options as the host passes them.
struct OptionList {
  std::vector<std::pair<std::string, std::string>> values;
  std::vector<hydra_option> raw() const {
    std::vector<hydra_option> r;
    for (const auto& [k, v] : values) r.push_back({hydra::sdk::str(k), hydra::sdk::str(v)});
    return r;
  }
};

// An instance made through create(), destroyed at scope end.
class Made {
 public:
  Made(const hydra_kind& kind, const OptionList& options) : kind_(kind) {
    const auto raw = options.raw();
    self_ = kind.create(raw.data(), raw.size(), &error_.buffer);
  }
  ~Made() {
    if (self_ != nullptr) kind_.destroy(self_);
  }
  Made(const Made&) = delete;
  Made& operator=(const Made&) = delete;
  void* self() const { return self_; }
  const std::string& error() const { return error_.text; }

 private:
  const hydra_kind& kind_;
  void* self_ = nullptr;
  Collected error_;
};

hydra_record record(std::string_view message, const std::vector<hydra_field>& fields = {},
                    int32_t level = HYDRA_LEVEL_INFO) {
  hydra_record r{};
  r.size = sizeof(hydra_record);
  r.level = level;
  r.time_unix_ns = 1'700'000'000'000'000'000;
  r.layer = hydra::sdk::str("APP");
  r.logger = hydra::sdk::str("test");
  r.message = hydra::sdk::str(message);
  r.fields = fields.data();
  r.field_count = fields.size();
  return r;
}

TEST(Sdk, DescriptorIsOfThisAbiWithItsOwnSizes) {
  const Opened example(HYDRA_EXAMPLE_PLUGIN);
  const hydra_plugin_descriptor& d = example.descriptor();
  EXPECT_EQ(d.size, sizeof(hydra_plugin_descriptor));
  EXPECT_EQ(d.abi_major, HYDRA_PLUGIN_ABI_MAJOR);
  EXPECT_EQ(d.abi_minor, HYDRA_PLUGIN_ABI_MINOR);
  EXPECT_EQ(d.kind_size, sizeof(hydra_kind));
  EXPECT_STREQ(d.name, "hydra-example");
  ASSERT_EQ(d.kind_count, 3u);
  const hydra_kind& sink = example.kind("example_file");
  EXPECT_EQ(sink.size, sizeof(hydra_kind));
  EXPECT_EQ(sink.kind, HYDRA_KIND_SINK);
  EXPECT_EQ(sink.flags, HYDRA_KIND_THREAD_SAFE);
  ASSERT_EQ(sink.option_count, 2u);
  EXPECT_STREQ(sink.options[0].name, "path");
  EXPECT_EQ(sink.options[0].required, 1);
  // The kind's callbacks, and none of another kind's.
  EXPECT_NE(sink.write, nullptr);
  EXPECT_NE(sink.flush, nullptr);
  EXPECT_NE(sink.health, nullptr);
  EXPECT_EQ(sink.filter, nullptr);
  EXPECT_EQ(sink.observe, nullptr);
  EXPECT_EQ(example.kind("example_sample").kind, HYDRA_KIND_FILTER);
  EXPECT_EQ(example.kind("example_sample").write, nullptr);
  EXPECT_EQ(example.kind("example_counter").kind, HYDRA_KIND_ANALYTICS);
  // Unbounded options stay unbounded (min > max); bounded ones keep their bounds.
  const hydra_option_spec& rate = example.kind("example_sample").options[0];
  EXPECT_EQ(rate.min, 1);
  EXPECT_EQ(rate.max, 1'000'000);
}

TEST(Sdk, ReconfigureIsOfferedOnlyWhenTheClassOverridesIt) {
  const Opened example(HYDRA_EXAMPLE_PLUGIN);
  EXPECT_NE(example.kind("example_file").reconfigure, nullptr);
  EXPECT_EQ(example.kind("example_sample").reconfigure, nullptr);
  EXPECT_EQ(example.kind("example_counter").reconfigure, nullptr);
}

TEST(Sdk, SinkWritesFlushesAndReconfigures) {
  hydra::test::TempDir dir;
  const Opened example(HYDRA_EXAMPLE_PLUGIN);
  const hydra_kind& kind = example.kind("example_file");
  Made sink(kind, {{{"path", dir.file("a.log")}}});
  ASSERT_NE(sink.self(), nullptr) << sink.error();
  Collected error;
  EXPECT_EQ(kind.start(sink.self(), &error.buffer), 0);
  for (const std::string_view line : {"one\n", "two\n"}) {
    const hydra_record r = record(line);
    ASSERT_EQ(kind.write(sink.self(), &r, hydra::sdk::str(line), &error.buffer), 0) << error.text;
  }
  ASSERT_EQ(kind.flush(sink.self(), &error.buffer), 0);
  EXPECT_EQ(hydra::test::read_file(dir.file("a.log")), "one\ntwo\n");

  // A reload that names another file moves to it.
  const OptionList moved{{{"path", dir.file("b.log")}, {"flush_each", "true"}}};
  const auto raw = moved.raw();
  ASSERT_EQ(kind.reconfigure(sink.self(), raw.data(), raw.size(), &error.buffer), 0) << error.text;
  const hydra_record r = record("three");
  ASSERT_EQ(kind.write(sink.self(), &r, hydra::sdk::str("three\n"), &error.buffer), 0);
  EXPECT_EQ(hydra::test::read_file(dir.file("b.log")), "three\n");

  Collected health;
  ASSERT_EQ(kind.health(sink.self(), &health.buffer, &error.buffer), 0);
  EXPECT_EQ(nlohmann::json::parse(health.text), nlohmann::json::parse(R"({"ok":true,"bytes":14})"));
  kind.stop(sink.self());
  EXPECT_EQ(error.text, "");
}

TEST(Sdk, AConstructorThatThrowsRefusesTheOptions) {
  const Opened example(HYDRA_EXAMPLE_PLUGIN);
  Made sink(example.kind("example_file"), {{{"path", "/nonexistent-dir/x.log"}}});
  EXPECT_EQ(sink.self(), nullptr);
  EXPECT_EQ(sink.error(), "cannot open '/nonexistent-dir/x.log': No such file or directory");

  const Opened throwing(fixture("throwing.so"));
  Made refused(throwing.kind("refusing_filter"), {});
  EXPECT_EQ(refused.self(), nullptr);
  EXPECT_EQ(refused.error(), "refusing_filter: refuses every configuration");
}

TEST(Sdk, FilterEditsGoThroughTheHostsCallbacks) {
  const Opened example(HYDRA_EXAMPLE_PLUGIN);
  const hydra_kind& kind = example.kind("example_sample");
  Made filter(kind, {{{"rate", "3"}, {"drop_substring", "GET /health"}}});
  ASSERT_NE(filter.self(), nullptr) << filter.error();

  struct Edits {
    std::vector<std::string> added;
  } edits;
  hydra_record_edit edit{};
  edit.context = &edits;
  edit.add_field = [](void* context, const hydra_field* field) {
    const hydra::sdk::Value value = hydra::sdk::Value::of(*field);
    static_cast<Edits*>(context)->added.push_back(std::string(view(field->key)) + "=" +
                                                  value.text());
  };
  Collected error;
  int kept = 0;
  for (int i = 0; i < 9; ++i) {
    const hydra_record r = record("hello");
    const int verdict = kind.filter(filter.self(), &r, &edit, &error.buffer);
    ASSERT_GE(verdict, 0) << error.text;
    kept += verdict == HYDRA_FILTER_KEEP;
  }
  EXPECT_EQ(kept, 3);
  EXPECT_EQ(edits.added, (std::vector<std::string>(3, "sampled_rate=3")));
  const hydra_record health_check = record("GET /health 200");
  EXPECT_EQ(kind.filter(filter.self(), &health_check, &edit, &error.buffer), HYDRA_FILTER_DROP);
}

TEST(Sdk, AnalyticsCountsEmitsAndAnswersJson) {
  const Opened example(HYDRA_EXAMPLE_PLUGIN);
  const hydra_kind& kind = example.kind("example_counter");
  Made counter(kind, {{{"summary_every", "2"}}});
  ASSERT_NE(counter.self(), nullptr) << counter.error();
  Collected error;
  for (const int32_t level : {HYDRA_LEVEL_INFO, HYDRA_LEVEL_INFO, HYDRA_LEVEL_ERROR}) {
    const hydra_record r = record("x", {}, level);
    ASSERT_EQ(kind.observe(counter.self(), &r, &error.buffer), 0) << error.text;
  }
  struct Emitted {
    std::vector<std::string> lines;
  } emitted;
  hydra_emitter emitter{
      &emitted, [](void* context, int32_t level, hydra_str layer, hydra_str message,
                   const hydra_field* fields, std::size_t count) {
        std::string line =
            std::string(hydra::sdk::level_name(static_cast<hydra::sdk::Level>(level))) + " " +
            std::string(view(layer)) + " " + std::string(view(message));
        for (std::size_t i = 0; i < count; ++i)
          line += " " + std::string(view(fields[i].key)) + "=" +
                  hydra::sdk::Value::of(fields[i]).text();
        static_cast<Emitted*>(context)->lines.push_back(line);
      }};
  for (int tick = 0; tick < 4; ++tick)
    ASSERT_EQ(kind.tick(counter.self(), 0, &emitter, &error.buffer), 0) << error.text;
  EXPECT_EQ(emitted.lines, (std::vector<std::string>(
                               2, "info EXAMPLE example_counter summary records=3 errors=1")));
  Collected insights;
  ASSERT_EQ(kind.insights(counter.self(), &insights.buffer, &error.buffer), 0);
  EXPECT_EQ(nlohmann::json::parse(insights.text),
            nlohmann::json::parse(R"({"total":3,"by_level":{"info":2,"error":1}})"));
}

TEST(Sdk, ExceptionsBecomeErrorsOnOneLine) {
  const Opened throwing(fixture("throwing.so"));
  Collected error;
  const hydra_record r = record("x");

  const hydra_kind& sink = throwing.kind("throwing_sink");
  Made s(sink, {});
  ASSERT_NE(s.self(), nullptr);
  EXPECT_LT(sink.write(s.self(), &r, hydra::sdk::str("x\n"), &error.buffer), 0);
  EXPECT_EQ(error.text, "throwing: write threw over two lines");
  error.text.clear();
  EXPECT_LT(sink.flush(s.self(), &error.buffer), 0);
  EXPECT_EQ(error.text, "unknown exception");
  // Without an error buffer the call still fails, quietly.
  EXPECT_LT(sink.flush(s.self(), nullptr), 0);

  const hydra_kind& filter = throwing.kind("throwing_filter");
  Made f(filter, {});
  error.text.clear();
  EXPECT_LT(filter.filter(f.self(), &r, nullptr, &error.buffer), 0);
  EXPECT_EQ(error.text, "throwing: filter threw");

  const hydra_kind& analytics = throwing.kind("throwing_analytics");
  Made a(analytics, {});
  for (const auto& [call, expected] : std::vector<std::pair<std::function<int()>, std::string>>{
           {[&] { return analytics.observe(a.self(), &r, &error.buffer); },
            "throwing: observe threw"},
           {[&] { return analytics.tick(a.self(), 0, nullptr, &error.buffer); },
            "throwing: tick threw"},
           {[&] { return analytics.insights(a.self(), nullptr, &error.buffer); },
            "throwing: insights threw"}}) {
    error.text.clear();
    EXPECT_LT(call(), 0);
    EXPECT_EQ(error.text, expected);
  }
}

TEST(Sdk, FormatterAndDetectorCallbacks) {
  const Opened extra(fixture("sdk_extra.so"));
  const hydra_kind& formatter = extra.kind("extra_line");
  Made line(formatter, {{{"separator", "|"}}});
  ASSERT_NE(line.self(), nullptr) << line.error();
  const hydra::sdk::Value count(7);
  const std::vector<hydra_field> fields = {count.to_c("n"), hydra::sdk::Value("a\nb").to_c("text")};
  const hydra_record r = record("hi\x1b[31m", fields, HYDRA_LEVEL_WARNING);
  Collected out, error;
  ASSERT_EQ(formatter.format(line.self(), &r, &out.buffer, &error.buffer), 0) << error.text;
  EXPECT_EQ(out.text, "warning|APP|hi\\x1b[31m|n=7|text=a\\nb\n");

  const hydra_kind& detector = extra.kind("extra_digits");
  EXPECT_STREQ(detector.token, "DIGITS");
  Made digits(detector, {});
  std::vector<std::pair<std::size_t, std::size_t>> found;
  hydra_span_sink spans{&found, [](void* context, std::size_t begin, std::size_t end) {
                          static_cast<decltype(found)*>(context)->emplace_back(begin, end);
                        }};
  ASSERT_EQ(detector.detect(digits.self(), hydra::sdk::str("id 1234567 pin 12 x 999999"), &spans,
                            &error.buffer),
            0);
  EXPECT_EQ(found, (std::vector<std::pair<std::size_t, std::size_t>>{{3, 10}, {20, 26}}));
}

TEST(Sdk, OptionsReadTheHostsCanonicalText) {
  const OptionList given{{{"n", "42"},
                          {"x", "2.5"},
                          {"on", "true"},
                          {"wait", "1500"},
                          {"wait_s", "3s"},
                          {"list", " a, b ,,c "},
                          {"bad", "ten"}}};
  const auto raw = given.raw();
  const hydra::sdk::Options options(raw.data(), raw.size());
  EXPECT_EQ(options.integer("n"), 42);
  EXPECT_EQ(options.integer("missing", 7), 7);
  EXPECT_EQ(options.number("x"), 2.5);
  EXPECT_TRUE(options.boolean("on"));
  EXPECT_EQ(options.duration("wait"), std::chrono::milliseconds(1500));
  EXPECT_EQ(options.duration("wait_s"), std::chrono::seconds(3));
  EXPECT_EQ(options.list("list"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(options.text("missing", "fallback"), "fallback");
  EXPECT_FALSE(options.has("missing"));
  try {
    (void)options.integer("bad");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "option 'bad': 'ten' is not an integer");
  }
  EXPECT_THROW((void)options.boolean("n"), std::invalid_argument);
}

// The SDK's escaping is the library's (docs/formats.md, "Escaping"), so a
// plugin's lines read like Hydra's own.
TEST(Sdk, EscapingMatchesTheLibrarys) {
  const std::vector<std::string> inputs = {
      "plain text",
      "cr\rlf\ntab\tend",
      "\x1b[31mred\x1b[0m",
      std::string("nul\0bel\a del\x7f", 13),
      "c1 \xc2\x85 \xc2\x9f nbsp \xc2\xa0",
      "utf8 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
      "bad \xff \xc3\x28 \xed\xa0\x80 \xf4\x90\x80\x80 \xc0\xaf \xe2\x82",
      "back\\slash \"quotes\"",
  };
  for (const std::string& input : inputs) {
    std::string sdk;
    hydra::sdk::append_escaped_text(input, sdk);
    hydra::Buffer library;
    hydra::append_escaped_text(input, library);
    EXPECT_EQ(sdk, std::string(library.data(), library.size())) << input;
  }
}

}  // namespace
