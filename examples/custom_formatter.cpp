// A formatter of your own for one destination (DestinationConfig::formatter):
// here a compact line for the console, next to a JSON Lines file written by
// the built-in format.
//
//   I APP    user alice logged in | user=alice
//   W APP    disk 91% full | pct=91
#include <cstdio>
#include <hydra/hydra.hpp>
#include <memory>

// Stateless, so it is safe on several threads at once, as the contract in
// hydra/format/formatter.hpp asks. Content goes through the escaping helpers,
// so a message holding CR/LF or an ANSI escape cannot forge or colour a line.
class CompactFormatter final : public hydra::Formatter {
 public:
  void format(const hydra::Record& record, hydra::Buffer& out) const override {
    out.push_back(hydra::to_string(record.level).front());
    out.push_back(' ');
    const std::size_t layer_start = out.size();
    hydra::append_escaped_text(record.layer, out);
    while (out.size() < layer_start + 6) out.push_back(' ');  // a column for the layer
    out.push_back(' ');
    hydra::append_escaped_text(record.message, out);
    const char* separator = " | ";
    for (const hydra::Field& field : record.fields) {
      out.append(std::string_view(separator));
      hydra::append_logfmt_field(field, out);
      separator = " ";
    }
    out.push_back('\n');
  }
};

int main() {
  hydra::LoggerConfig config;
  auto console = hydra::console();
  console.formatter = std::make_shared<CompactFormatter>();
  config.layers["APP"].destinations = {console,
                                       hydra::file("/tmp/hydra-example-custom.jsonl", "json")};
  try {
    hydra::Logger log(config);
    log.info("user {user} logged in", "alice");
    log.warning("disk {pct}% full", 91);
    log.info("forged?\n2026-11-27 ERROR nothing happened");
  } catch (const hydra::ConfigError& e) {
    std::fprintf(stderr, "bad configuration: %s\n", e.what());
    return 1;
  }
  return 0;
}
