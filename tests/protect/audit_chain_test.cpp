// The audit trail: the file format (MACs recomputed here with OpenSSL), every
// kind of damage on real files, appending, rotation, checkpoints, the key
// sources, the event schema, and the sink under a logger in both modes.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <hydra/hydra.hpp>
#include <hydra/protect/audit_chain.hpp>
#include <hydra/protect/audit_event.hpp>
#include <hydra/protect/audit_verify.hpp>

#include "sink/sink_test_support.hpp"
#include "system_calls.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using hydra::ConfigError;
using hydra::protect::AuditChainOptions;
using hydra::protect::AuditChainSink;
using hydra::protect::AuditDamage;
using hydra::protect::AuditVerifyResult;
using hydra::test::read_file;
using hydra::test::split_lines;
using hydra::test::TempDir;
using hydra::test::write_file;

const std::string kKey = "0123456789abcdef-audit-test-key!";
const std::string kOtherKey = "fedcba9876543210-another-key....";

std::string hex(const unsigned char* data, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < size; ++i) {
    out += digits[data[i] >> 4U];
    out += digits[data[i] & 0xfU];
  }
  return out;
}

std::string unhex(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i + 1 < text.size(); i += 2) {
    out += static_cast<char>(std::stoi(text.substr(i, 2), nullptr, 16));
  }
  return out;
}

// The documented MAC, computed independently of the library:
// HMAC-SHA256(key, prev[32] || kind || be64(seq) || be64(size) || payload).
std::string expected_mac(const std::string& key, const std::string& prev_hex, char kind,
                         std::uint64_t seq, const std::string& payload) {
  std::string input = prev_hex.empty() ? std::string(32, '\0') : unhex(prev_hex);
  input += kind;
  for (int shift = 56; shift >= 0; shift -= 8) input += static_cast<char>((seq >> shift) & 0xff);
  const std::uint64_t size = payload.size();
  for (int shift = 56; shift >= 0; shift -= 8) input += static_cast<char>((size >> shift) & 0xff);
  input += payload;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &length);
  return hex(mac, length);
}

std::string key_id(const std::string& key) {
  const std::string label = "hydra-audit key id";
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(label.data()), label.size(), mac, &length);
  return hex(mac, 8);
}

struct Line {
  char kind;
  std::uint64_t seq;
  std::string mac;
  std::string payload;
};

Line parse(const std::string& text) {
  const auto s1 = text.find(' ', 2);
  return {text[0], std::stoull(text.substr(2, s1 - 2)), text.substr(s1 + 1, 64),
          text.substr(s1 + 66)};
}

AuditChainOptions options_for(const std::string& path, const std::string& key = kKey) {
  AuditChainOptions o;
  o.path = path;
  o.key.value = key;
  o.durable = false;  // the tests do not need fsync
  return o;
}

void write_records(const AuditChainOptions& options, int count, const std::string& prefix = "r") {
  AuditChainSink sink(options);
  for (int i = 0; i < count; ++i) {
    sink.write(hydra::Record{},
               prefix + std::to_string(i) + " {\"x\":" + std::to_string(i) + "}\n");
  }
}

AuditVerifyResult verify(const std::vector<std::string>& files, const std::string& key = kKey,
                         bool checkpoint = true) {
  hydra::protect::AuditVerifyOptions o;
  if (checkpoint) o.checkpoint = files.back() + ".checkpoint";
  return hydra::protect::verify_audit_files(files, key, o);
}

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

void edit_lines(const std::string& path,
                const std::function<void(std::vector<std::string>&)>& edit) {
  auto lines = split_lines(read_file(path));
  edit(lines);
  write_file(path, join(lines));
}

// ---------------------------------------------------------------------------
// Keys

TEST(AuditKey, FromFileIgnoresOneTrailingNewline) {
  TempDir dir;
  write_file(dir.file("k"), kKey + "\n");
  EXPECT_EQ(hydra::protect::load_audit_key({.file = dir.file("k")}), kKey);
  write_file(dir.file("k2"), kKey);
  EXPECT_EQ(hydra::protect::load_audit_key({.file = dir.file("k2")}), kKey);
}

TEST(AuditKey, ProblemsNameTheFileOrVariable) {
  TempDir dir;
  const auto message = [](const hydra::protect::AuditKeySource& source) {
    try {
      hydra::protect::load_audit_key(source);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string missing = dir.file("missing.key");
  EXPECT_EQ(message({.file = missing}),
            "key_file '" + missing + "': cannot read: No such file or directory");
  write_file(dir.file("empty"), "\n");
  EXPECT_EQ(message({.file = dir.file("empty")}),
            "key_file '" + dir.file("empty") + "': the key is empty");
  write_file(dir.file("short"), "tooshort");
  EXPECT_NE(message({.file = dir.file("short")}).find("the key is 8 bytes; at least 16"),
            std::string::npos);
  ::unsetenv("HYDRA_AUDIT_TEST_KEY");
  EXPECT_EQ(message({.env = "HYDRA_AUDIT_TEST_KEY"}),
            "key_env: the environment variable 'HYDRA_AUDIT_TEST_KEY' is not set");
  ::setenv("HYDRA_AUDIT_TEST_KEY", "", 1);
  EXPECT_EQ(message({.env = "HYDRA_AUDIT_TEST_KEY"}),
            "key_env 'HYDRA_AUDIT_TEST_KEY': the key is empty");
  ::setenv("HYDRA_AUDIT_TEST_KEY", kKey.c_str(), 1);
  EXPECT_EQ(hydra::protect::load_audit_key({.env = "HYDRA_AUDIT_TEST_KEY"}), kKey);
  ::unsetenv("HYDRA_AUDIT_TEST_KEY");
  EXPECT_NE(message({}).find("no key: set key_file, key_env or key"), std::string::npos);
  EXPECT_EQ(message({.file = "x", .value = kKey}), "set only one of key_file, key_env and key");
}

// ---------------------------------------------------------------------------
// The sink and the file format

TEST(AuditChainSink, WithoutAKeyIsAConfigErrorAndWritesNothing) {
  TempDir dir;
  AuditChainOptions options;
  options.path = dir.file("audit.log");
  try {
    AuditChainSink sink(options);
    FAIL() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("audit '" + options.path + "': no key"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(hydra::protect::audit_file(options), ConfigError);
  options.key.file = dir.file("absent.key");
  try {
    hydra::protect::audit_file(options);
    FAIL() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(options.key.file), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("No such file or directory"), std::string::npos);
  }
  EXPECT_FALSE(fs::exists(options.path));
}

TEST(AuditChainSink, WritesTheDocumentedFormat) {
  TempDir dir;
  const std::string path = dir.file("audit.log");
  {
    AuditChainSink sink(options_for(path));
    sink.write(hydra::Record{}, "{\"message\":\"first\"}\n");
    sink.write(hydra::Record{}, "second, without a newline");
    EXPECT_EQ(sink.last_seq(), 2u);
  }
  const auto lines = split_lines(read_file(path));
  ASSERT_EQ(lines.size(), 3u);
  const std::string zeros(64, '0');
  const std::string header_payload = "hydra-audit/1 key=" + key_id(kKey) + " prev=" + zeros;
  const std::string h = expected_mac(kKey, "", 'H', 0, header_payload);
  EXPECT_EQ(lines[0], "H 0 " + h + " " + header_payload);
  const std::string r1 = expected_mac(kKey, h, 'R', 1, "{\"message\":\"first\"}");
  EXPECT_EQ(lines[1], "R 1 " + r1 + " {\"message\":\"first\"}");
  const std::string r2 = expected_mac(kKey, r1, 'R', 2, "second, without a newline");
  EXPECT_EQ(lines[2], "R 2 " + r2 + " second, without a newline");
  // The checkpoint: the last line's seq and MAC, MACed over that MAC.
  const std::string cp_payload = "hydra-audit/1 key=" + key_id(kKey) + " last=" + r2;
  EXPECT_EQ(read_file(path + ".checkpoint"),
            "C 2 " + expected_mac(kKey, r2, 'C', 2, cp_payload) + " " + cp_payload + "\n");
  const AuditVerifyResult result = verify({path});
  EXPECT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.records, 2u);
  EXPECT_EQ(result.lines, 3u);
  EXPECT_TRUE(result.from_genesis);
  EXPECT_EQ(result.last_mac, r2);
  EXPECT_EQ(result.describe(), "intact: 2 records, seq 0..2; checkpoint at seq 2 matches");
}

TEST(AuditChainSink, PayloadsCannotForgeLinesOrDriveATerminal) {
  TempDir dir;
  const std::string path = dir.file("audit.log");
  const std::string fake = "R 2 " + std::string(64, 'a') + " forged";
  {
    AuditChainSink sink(options_for(path));
    sink.write(hydra::Record{}, "one\n" + fake + "\n");
    sink.write(hydra::Record{}, "esc \x1b[31mred\x1b[0m cr\rback del\x7f tab\tok\n");
  }
  const auto lines = split_lines(read_file(path));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(parse(lines[1]).payload, "one\\x0a" + fake);
  EXPECT_EQ(parse(lines[2]).payload, "esc \\x1b[31mred\\x1b[0m cr\\x0dback del\\x7f tab\tok");
  const AuditVerifyResult result = verify({path});
  EXPECT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.records, 2u);
}

TEST(AuditChainSink, AppendingToAnExistingFileContinuesItsChain) {
  TempDir dir;
  const std::string path = dir.file("audit.log");
  write_records(options_for(path), 3, "first run ");
  write_records(options_for(path), 2, "second run ");
  const auto lines = split_lines(read_file(path));
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[0][0], 'H');
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const Line line = parse(lines[i]);
    EXPECT_EQ(line.kind, 'R') << "no second header";
    EXPECT_EQ(line.seq, i);
    EXPECT_EQ(line.mac, expected_mac(kKey, parse(lines[i - 1]).mac, 'R', i, line.payload));
  }
  const AuditVerifyResult result = verify({path});
  EXPECT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.records, 5u);
}

std::string construction_error(const AuditChainOptions& options) {
  try {
    AuditChainSink sink(options);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(AuditChainSink, RefusesToAppendToADamagedChain) {
  TempDir dir;
  const std::string path = dir.file("audit.log");
  write_records(options_for(path), 5);
  edit_lines(path, [](auto& lines) { lines[3].back() = 'X'; });
  const std::string before = read_file(path);
  const std::string error = construction_error(options_for(path));
  EXPECT_NE(error.find("the existing chain does not verify: " + path + ":4: seq 3: modified"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("refusing to append"), std::string::npos) << error;
  EXPECT_EQ(read_file(path), before) << "nothing written to a damaged chain";
}

TEST(AuditChainSink, RefusesToAppendWhenTheTailWasCut) {
  TempDir dir;
  const std::string path = dir.file("audit.log");
  write_records(options_for(path), 5);
  edit_lines(path, [](auto& lines) { lines.resize(4); });
  const std::string error = construction_error(options_for(path));
  EXPECT_NE(error.find("truncated: the chain ends at seq 3, but its checkpoint records seq 5"),
            std::string::npos)
      << error;
}

TEST(AuditChainSink, RefusesAChainWrittenWithAnotherKey) {
  TempDir dir;
  const std::string path = dir.file("audit.log");
  write_records(options_for(path), 2);
  const std::string error = construction_error(options_for(path, kOtherKey));
  EXPECT_NE(error.find("wrong_key"), std::string::npos) << error;
}

TEST(AuditChainSink, OneWriterAtATime) {
  TempDir dir;
  const std::string path = dir.file("audit.log");
  {
    AuditChainSink first(options_for(path));
    const std::string error = construction_error(options_for(path));
    EXPECT_NE(error.find("another writer holds the chain"), std::string::npos) << error;
  }
  EXPECT_EQ(construction_error(options_for(path)), "no error");
}

TEST(AuditChainSink, ChecksOptions) {
  TempDir dir;
  auto options = options_for(dir.file("audit.log"));
  options.max_size = 1000;
  options.backup_count = 0;
  EXPECT_NE(construction_error(options).find("backup_count: 0 must be >= 1"), std::string::npos);
  options = options_for("");
  EXPECT_NE(construction_error(options).find("needs a path"), std::string::npos);
  options = options_for(dir.file("no/such/dir/audit.log"));
  EXPECT_NE(construction_error(options).find("No such file or directory"), std::string::npos);
}

std::uint64_t checkpoint_seq(const std::string& path) {
  const std::string text = read_file(path + ".checkpoint");
  return std::stoull(text.substr(2, text.find(' ', 2) - 2));
}

TEST(AuditChainSink, CheckpointsEveryNLinesOnFlushAndOnClose) {
  TempDir dir;
  const std::string path = dir.file("audit.log");
  auto options = options_for(path);
  options.checkpoint_every = 5;
  options.checkpoint_interval = std::chrono::hours(1);
  {
    AuditChainSink sink(options);
    EXPECT_EQ(checkpoint_seq(path), 0u) << "the header is checkpointed at once";
    for (int i = 0; i < 12; ++i) sink.write(hydra::Record{}, "r\n");
    EXPECT_EQ(checkpoint_seq(path), 10u);
    sink.flush();
    EXPECT_EQ(checkpoint_seq(path), 12u);
    sink.write(hydra::Record{}, "r\n");
    EXPECT_EQ(checkpoint_seq(path), 12u);
  }
  EXPECT_EQ(checkpoint_seq(path), 13u);
  EXPECT_FALSE(fs::exists(path + ".checkpoint.tmp"));
}

TEST(AuditChainSink, CheckpointsAfterTheInterval) {
  TempDir dir;
  const std::string path = dir.file("audit.log");
  auto options = options_for(path);
  options.checkpoint_interval = std::chrono::milliseconds(0);
  AuditChainSink sink(options);
  sink.write(hydra::Record{}, "r\n");
  EXPECT_EQ(checkpoint_seq(path), 1u);
}

TEST(AuditChainSink, RecordsRefusedWhileTheDeviceFailsAreNotedInTheChain) {
  TempDir dir;
  const std::string path = dir.file("audit.log");
  auto options = options_for(path);
  options.max_pending = 300;
  {
    AuditChainSink sink(options);
    sink.write(hydra::Record{}, "before\n");
    // The file may not grow: write(2) fails with EFBIG (SIGXFSZ ignored).
    const auto previous = std::signal(SIGXFSZ, SIG_IGN);
    rlimit old{};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
    rlimit tight = old;
    tight.rlim_cur = static_cast<rlim_t>(fs::file_size(path));
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &tight), 0);
    for (int i = 0; i < 10; ++i) sink.write(hydra::Record{}, "while failing " + std::to_string(i));
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
    std::signal(SIGXFSZ, previous);
    EXPECT_GT(sink.write_errors(), 0u);
    EXPECT_GT(sink.dropped_records(), 0u);
    EXPECT_LT(sink.dropped_records(), 10u) << "some waited in order";
    sink.write(hydra::Record{}, "after\n");
  }
  const AuditVerifyResult result = verify({path});
  EXPECT_TRUE(result.ok()) << result.describe();
  const std::string text = read_file(path);
  EXPECT_NE(text.find(R"({"hydra_audit":"records_dropped","count":)"), std::string::npos) << text;
  EXPECT_LT(text.find("while failing 0"), text.find("records_dropped"));
  EXPECT_LT(text.find("records_dropped"), text.find("after"));
}

// ---------------------------------------------------------------------------
// Rotation

std::vector<std::string> oldest_first(const std::string& path) {
  std::vector<std::string> files;
  for (int i = 20; i >= 1; --i) {
    const std::string name = path + "." + std::to_string(i);
    if (fs::exists(name)) files.push_back(name);
  }
  files.push_back(path);
  return files;
}

TEST(AuditChainSink, RotationContinuesTheChainAcrossFiles) {
  TempDir dir;
  const std::string path = dir.file("audit.log");
  auto options = options_for(path);
  options.max_size = 800;
  options.backup_count = 20;
  {
    AuditChainSink sink(options);
    for (int i = 0; i < 30; ++i) sink.write(hydra::Record{}, "record number " + std::to_string(i));
    EXPECT_GE(sink.rotations(), 3u);
  }
  const auto files = oldest_first(path);
  ASSERT_GE(files.size(), 4u);
  for (std::size_t f = 1; f < files.size(); ++f) {
    const auto previous = split_lines(read_file(files[f - 1]));
    const auto current = split_lines(read_file(files[f]));
    EXPECT_LE(read_file(files[f - 1]).size(), 800u);
    const Line last = parse(previous.back());
    const Line first = parse(current.front());
    // The new file's header links to the previous file's last line.
    EXPECT_EQ(first.kind, 'H');
    EXPECT_EQ(first.seq, last.seq + 1);
    EXPECT_EQ(first.payload, "hydra-audit/1 key=" + key_id(kKey) + " prev=" + last.mac);
    EXPECT_EQ(first.mac, expected_mac(kKey, last.mac, 'H', first.seq, first.payload));
  }
  AuditVerifyResult result = verify(files);
  EXPECT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.records, 30u);
  EXPECT_TRUE(result.from_genesis);

  // The newest files alone verify, starting at their first header.
  result = verify({files[files.size() - 2], files.back()});
  EXPECT_TRUE(result.ok()) << result.describe();
  EXPECT_FALSE(result.from_genesis);

  // A file left out is a gap; files out of order are reordered.
  std::vector<std::string> gap = files;
  gap.erase(gap.begin() + 1);
  result = verify(gap);
  EXPECT_EQ(result.damage, AuditDamage::deleted) << result.describe();
  EXPECT_EQ(result.file, files[2]);
  EXPECT_EQ(result.line, 1u);
  std::vector<std::string> swapped = files;
  std::swap(swapped[1], swapped[2]);
  result = verify(swapped);
  EXPECT_EQ(result.damage, AuditDamage::reordered) << result.describe();
}

TEST(AuditChainSink, RotationKeepsBackupCountFiles) {
  TempDir dir;
  const std::string path = dir.file("audit.log");
  auto options = options_for(path);
  options.max_size = 500;
  options.backup_count = 2;
  write_records(options, 40);
  EXPECT_EQ(dir.entries(), (std::set<std::string>{"audit.log", "audit.log.1", "audit.log.2",
                                                  "audit.log.checkpoint", "audit.log.lock"}));
  const AuditVerifyResult result = verify({path + ".2", path + ".1", path});
  EXPECT_TRUE(result.ok()) << result.describe();
  EXPECT_FALSE(result.from_genesis) << "older files were deleted";
}

TEST(AuditChainSink, ANewFileAfterARenameLinksToTheCheckpoint) {
  TempDir dir;
  const std::string path = dir.file("audit.log");
  write_records(options_for(path), 3);
  // As if a rotation stopped between the rename and the new file's header.
  fs::rename(path, path + ".1");
  write_records(options_for(path), 2);
  AuditVerifyResult result = verify({path + ".1", path});
  EXPECT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.records, 5u);
  // Without a checkpoint, the newest rotated file's last line is the link.
  fs::remove(path + ".checkpoint");
  fs::rename(path + ".1", path + ".2");
  fs::rename(path, path + ".1");
  write_records(options_for(path), 1);
  result = verify({path + ".2", path + ".1", path});
  EXPECT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.records, 6u);
}

TEST(AuditChainSink, ReopenAfterAnExternalRenameStartsALinkedFile) {
  TempDir dir;
  const std::string path = dir.file("audit.log");
  {
    AuditChainSink sink(options_for(path));
    sink.write(hydra::Record{}, "before\n");
    fs::rename(path, path + ".1");
    sink.reopen();
    sink.write(hydra::Record{}, "after\n");
    EXPECT_EQ(sink.write_errors(), 0u);
  }
  const AuditVerifyResult result = verify({path + ".1", path});
  EXPECT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.records, 2u);
  EXPECT_EQ(split_lines(read_file(path)).front()[0], 'H');
}

// ---------------------------------------------------------------------------
// Rotation moves the files present; backup_count is bounded; only a regular
// file holds a chain

using hydra::protect::kKeepAllAuditFiles;

// Options that rotate at every record after a file's first.
AuditChainOptions rotating_options(const std::string& path, int backup_count) {
  AuditChainOptions o = options_for(path);
  o.max_size = 1;
  o.backup_count = backup_count;
  return o;
}

std::string rotated_text(int i) {
  return "rotated " + std::to_string(i) + "\n";
}

// A chain of one record at `path`, and stand-ins for its rotated files
// path.<i>, holding "rotated <i>" (rotation never reads them).
void make_chain_and_rotated_files(const std::string& path, const std::vector<int>& indices) {
  write_records(options_for(path), 1);
  for (const int i : indices) write_file(path + "." + std::to_string(i), rotated_text(i));
}

TEST(AuditChainSink, RefusesABackupCountAboveTheBound) {
  TempDir dir;
  const std::string path = dir.file("audit.log");
  for (const int count : {100001, INT_MAX}) {
    EXPECT_EQ(construction_error(rotating_options(path, count)),
              "audit '" + path + "': backup_count: " + std::to_string(count) +
                  " is more than 100000 (kKeepAllAuditFiles keeps every rotated file)");
  }
  EXPECT_EQ(dir.entries(), std::set<std::string>{}) << "refused before anything was made";
  EXPECT_EQ(construction_error(rotating_options(path, 100000)), "no error");
  EXPECT_EQ(construction_error(rotating_options(path, kKeepAllAuditFiles)), "no error");
}

// Three rotated files exist, with room for 20,000: one rotation moves three
// files. Before, it renamed every index from 19,999 down to 1, present or not
// (20,000 system calls, about 160 ms a rotation; INT_MAX never finished).
TEST(AuditChainSinkForkTest, ARotationCostsTheFilesPresentNotBackupCount) {
  const auto calls_of_one_rotation = [](int backup_count) -> std::optional<long> {
    TempDir dir;
    const std::string path = dir.file("audit.log");
    make_chain_and_rotated_files(path, {1, 2, 3});
    std::optional<AuditChainSink> sink;
    int exit_code = -1;
    const auto calls =
        hydra::test::count_system_calls([&] { sink.emplace(rotating_options(path, backup_count)); },
                                        [&] {
                                          sink->write(hydra::Record{}, "rotates\n");
                                          return sink->rotations() == 1 ? 0 : 1;
                                        },
                                        &exit_code);
    if (!calls) return std::nullopt;
    EXPECT_EQ(exit_code, 0);
    EXPECT_EQ(dir.entries(),
              (std::set<std::string>{"audit.log", "audit.log.1", "audit.log.2", "audit.log.3",
                                     "audit.log.4", "audit.log.checkpoint", "audit.log.lock"}));
    EXPECT_EQ(read_file(path + ".4"), rotated_text(3));
    const AuditVerifyResult result = verify({path + ".1", path});
    EXPECT_TRUE(result.ok()) << result.describe();
    return calls;
  };
  const auto few = calls_of_one_rotation(5);
  if (!few) GTEST_SKIP() << "ptrace is not allowed here";
  const auto many = calls_of_one_rotation(20000);
  ASSERT_TRUE(many);
  EXPECT_LT(*many, 100) << "system calls of one rotation with backup_count 20000";
  EXPECT_LE(*many, *few + 5) << "backup_count 5 took " << *few;
  const auto all = calls_of_one_rotation(kKeepAllAuditFiles);
  ASSERT_TRUE(all);
  EXPECT_LE(*all, *few + 5) << "keeping every file; backup_count 5 took " << *few;
}

// Each file present moves up one, highest first, so gaps stay; those at
// backup_count and beyond (left by a larger backup_count) are deleted.
TEST(AuditChainSink, ARotationMovesTheFilesPresentAndDeletesThoseBeyondBackupCount) {
  TempDir dir;
  const std::string path = dir.file("audit.log");
  make_chain_and_rotated_files(path, {1, 3, 5, 9});
  write_file(path + ".old", "not a rotated file\n");
  write_file(path + ".07", "not one either\n");
  const std::string live = read_file(path);
  {
    AuditChainSink sink(rotating_options(path, 5));
    sink.write(hydra::Record{}, "rotates\n");
    EXPECT_EQ(sink.rotations(), 1u);
    EXPECT_EQ(sink.write_errors(), 0u);
  }
  EXPECT_EQ(dir.entries(), (std::set<std::string>{"audit.log", "audit.log.1", "audit.log.2",
                                                  "audit.log.4", "audit.log.old", "audit.log.07",
                                                  "audit.log.checkpoint", "audit.log.lock"}));
  EXPECT_EQ(read_file(path + ".1"), live);
  EXPECT_EQ(read_file(path + ".2"), rotated_text(1));
  EXPECT_EQ(read_file(path + ".4"), rotated_text(3));
}

// kKeepAllAuditFiles: every file present moves up one, whatever its number,
// and none is deleted.
TEST(AuditChainSink, KeepingEveryFileMovesAllThatArePresent) {
  TempDir dir;
  const std::string path = dir.file("audit.log");
  make_chain_and_rotated_files(path, {1, 2, 4, 100001});
  {
    AuditChainSink sink(rotating_options(path, kKeepAllAuditFiles));
    sink.write(hydra::Record{}, "rotates\n");
    EXPECT_EQ(sink.rotations(), 1u);
    EXPECT_EQ(sink.write_errors(), 0u);
  }
  EXPECT_EQ(dir.entries(), (std::set<std::string>{"audit.log", "audit.log.1", "audit.log.2",
                                                  "audit.log.3", "audit.log.5", "audit.log.100002",
                                                  "audit.log.checkpoint", "audit.log.lock"}));
  EXPECT_EQ(read_file(path + ".2"), rotated_text(1));
  EXPECT_EQ(read_file(path + ".3"), rotated_text(2));
  EXPECT_EQ(read_file(path + ".5"), rotated_text(4));
  EXPECT_EQ(read_file(path + ".100002"), rotated_text(100001));
}

// The live file moved away (a logrotate without a reopen): the rotation
// cannot take it, so it moves no rotated file either. Before, every record
// that retried the rotation shifted them again and deleted the oldest.
TEST(AuditChainSink, ARotationThatCannotMoveTheFileMovesNoRotatedFile) {
  TempDir dir;
  const std::string path = dir.file("audit.log");
  const std::string moved = dir.file("moved.log");
  auto options = options_for(path);
  options.max_size = 500;
  options.backup_count = 2;
  write_records(options, 12);
  const std::string one = read_file(path + ".1");
  const std::string two = read_file(path + ".2");
  ASSERT_FALSE(two.empty());
  testing::internal::CaptureStderr();
  {
    AuditChainSink sink(options);
    fs::rename(path, moved);
    for (int i = 0; i < 6; ++i) sink.write(hydra::Record{}, "after the move " + std::to_string(i));
    EXPECT_EQ(sink.rotations(), 0u);
    EXPECT_GT(sink.write_errors(), 0u);
  }
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(hydra::test::count_of(err, "rotation"), 1u) << err;
  EXPECT_NE(err.find("audit '" + path + "': rotation: lstat '" + path +
                     "': No such file or directory (will retry at the next record)"),
            std::string::npos)
      << err;
  EXPECT_EQ(read_file(path + ".1"), one);
  EXPECT_EQ(read_file(path + ".2"), two);
  EXPECT_FALSE(fs::exists(path));
  // The records went on into the moved file, and the chain holds.
  const AuditVerifyResult result = verify({path + ".2", path + ".1", moved}, kKey, false);
  EXPECT_TRUE(result.ok()) << result.describe();
  EXPECT_NE(read_file(moved).find("after the move 5"), std::string::npos);
}

const std::string kNotARegularFile =
    ", not a regular file (an audit chain is verified, appended to and rotated as a file: give "
    "the path of a regular file, or of one to be created)";

TEST(AuditChainSink, RefusesADirectory) {
  TempDir dir;
  const std::string path = dir.file("audit");
  fs::create_directory(path);
  EXPECT_EQ(construction_error(options_for(path)),
            "audit '" + path + "': is a directory" + kNotARegularFile);
}

TEST(AuditChainSink, RefusesAFifo) {
  TempDir dir;
  const std::string path = dir.file("audit.log");
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  // A reader, so that opening the FIFO for writing cannot block.
  const int reader = ::open(path.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  const std::string error = construction_error(options_for(path));
  ::close(reader);
  EXPECT_EQ(error, "audit '" + path + "': is a FIFO" + kNotARegularFile);
  EXPECT_EQ(dir.entries(), std::set<std::string>{"audit.log"});
}

// The issue's case: root pointed a rotating file at a device node, and the
// first rotation renamed the node. Needs the right to make one (root).
TEST(AuditChainSink, RefusesACharacterDevice) {
  TempDir dir;
  const std::string path = dir.file("null");
  if (::mknod(path.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) {
    GTEST_SKIP() << "cannot make a device node here: " << std::strerror(errno);
  }
  EXPECT_EQ(construction_error(rotating_options(path, 3)),
            "audit '" + path + "': is a character device" + kNotARegularFile);
  struct stat st {};
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(dir.entries(), std::set<std::string>{"null"});
}

// Rotation renames the path: a symbolic link would be moved, not its file.
// Without rotation a link to a regular file is followed.
TEST(AuditChainSink, RefusesASymbolicLinkWhenItRotates) {
  TempDir dir;
  const std::string target = dir.file("real.log");
  const std::string path = dir.file("audit.log");
  fs::create_symlink(target, path);
  EXPECT_EQ(construction_error(rotating_options(path, 3)),
            "audit '" + path + "': is a symbolic link (to '" + target +
                "'), not a regular file (rotation would move the link, not the file: give the "
                "path of the file itself)");
  EXPECT_EQ(dir.entries(), std::set<std::string>{"audit.log"});
  write_records(options_for(path), 2);  // max_size 0: no rotation
  const AuditVerifyResult result = verify({target}, kKey, false);
  EXPECT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.records, 2u);
  EXPECT_TRUE(fs::is_symlink(path));
  // A link to something else is refused, rotation or not.
  const std::string fifo = dir.file("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string to_fifo = dir.file("to-fifo.log");
  fs::create_symlink(fifo, to_fifo);
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);  // an open cannot block
  ASSERT_GE(reader, 0);
  EXPECT_EQ(
      construction_error(options_for(to_fifo)),
      "audit '" + to_fifo + "': is a symbolic link to a FIFO ('" + fifo + "')" + kNotARegularFile);
  ::close(reader);
}

TEST(AuditChainSink, DoesNotRotateAPathThatBecameAFifo) {
  TempDir dir;
  const std::string path = dir.file("audit.log");
  const std::string moved = dir.file("moved.log");
  testing::internal::CaptureStderr();
  {
    AuditChainSink sink(rotating_options(path, 3));
    sink.write(hydra::Record{}, "first\n");
    // Someone moves the file away and puts a FIFO in its place.
    fs::rename(path, moved);
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    sink.write(hydra::Record{}, "second\n");
    sink.write(hydra::Record{}, "third\n");
    EXPECT_EQ(sink.rotations(), 0u);
    EXPECT_EQ(sink.write_errors(), 2u);
  }
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(hydra::test::count_of(err, "rotation"), 1u) << err;
  EXPECT_NE(err.find("audit '" + path +
                     "': rotation: it is now a FIFO, not a regular file: not rotated (will retry "
                     "at the next record)"),
            std::string::npos)
      << err;
  struct stat st {};
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(dir.entries(), (std::set<std::string>{"audit.log", "moved.log", "audit.log.checkpoint",
                                                  "audit.log.lock"}));
  const AuditVerifyResult result = verify({moved}, kKey, false);  // written on through its fd
  EXPECT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.records, 3u);
}

TEST(AuditChainSink, ReopenDoesNotOpenAFifo) {
  TempDir dir;
  const std::string path = dir.file("audit.log");
  const std::string moved = dir.file("moved.log");
  testing::internal::CaptureStderr();
  int reader = -1;  // so that opening the FIFO, were it done, could not block
  {
    AuditChainSink sink(options_for(path));
    sink.write(hydra::Record{}, "before\n");
    fs::rename(path, moved);
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    reader = ::open(path.c_str(), O_RDONLY | O_NONBLOCK);
    ASSERT_GE(reader, 0);
    sink.reopen();
    sink.write(hydra::Record{}, "after\n");
    EXPECT_EQ(sink.write_errors(), 1u);
  }
  ::close(reader);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("audit '" + path +
                     "': reopen: it is a FIFO, not a regular file: still writing to the file "
                     "open before"),
            std::string::npos)
      << err;
  const AuditVerifyResult result = verify({moved}, kKey, false);
  EXPECT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.records, 2u);
}

// ---------------------------------------------------------------------------
// Damage: one real file of 10 records (seq 1..10 on lines 2..11), changed.

struct Tamper {
  const char* name;
  std::function<void(std::vector<std::string>&)> edit;
  AuditDamage damage;
  std::uint64_t line;
  std::optional<std::uint64_t> seq;
  const char* detail;  // a part of it
};

std::string with_seq(const std::string& line, std::uint64_t seq) {
  const Line l = parse(line);
  return std::string(1, l.kind) + " " + std::to_string(seq) + " " + l.mac + " " + l.payload;
}

const Tamper kTampers[] = {
    {"ModifiedPayload", [](auto& l) { l[4].back() = 'X'; }, AuditDamage::modified, 5, 4,
     "does not authenticate"},
    {"ModifiedMac", [](auto& l) { l[4][10] = l[4][10] == 'a' ? 'b' : 'a'; }, AuditDamage::modified,
     5, 4, "does not authenticate"},
    {"ModifiedSeq", [](auto& l) { l[4] = with_seq(l[4], 7); }, AuditDamage::modified, 5, 7,
     "changed from 4 to 7"},
    {"ModifiedKind", [](auto& l) { l[4][0] = 'H'; }, AuditDamage::modified, 5, 4,
     "kind was changed from 'R' to 'H'"},
    {"DeletedOne", [](auto& l) { l.erase(l.begin() + 4); }, AuditDamage::deleted, 5, 5,
     "seq 4 is missing (1 line)"},
    {"DeletedThree", [](auto& l) { l.erase(l.begin() + 4, l.begin() + 7); }, AuditDamage::deleted,
     5, 7, "seq 4..6 are missing (3 lines)"},
    {"DeletedHeader", [](auto& l) { l.erase(l.begin()); }, AuditDamage::deleted, 1, 1,
     "does not start with a header"},
    {"InsertedForged",
     [](auto& l) { l.insert(l.begin() + 4, "R 4 " + std::string(64, 'c') + " forged"); },
     AuditDamage::inserted, 5, 4, "not part of the chain"},
    {"InsertedFarSeq",
     [](auto& l) { l.insert(l.begin() + 4, "R 99 " + std::string(64, 'c') + " forged"); },
     AuditDamage::inserted, 5, 99, "not part of the chain"},
    {"Duplicated", [](auto& l) { l.insert(l.begin() + 5, l[4]); }, AuditDamage::inserted, 6, 4,
     "appears again"},
    {"DuplicatedLast", [](auto& l) { l.push_back(l.back()); }, AuditDamage::inserted, 12, 10,
     "repeats"},
    {"SwappedNeighbours", [](auto& l) { std::swap(l[4], l[5]); }, AuditDamage::reordered, 5, 5, ""},
    {"MovedLater",
     [](auto& l) {
       const std::string moved = l[2];
       l.erase(l.begin() + 2);
       l.push_back(moved);
     },
     AuditDamage::reordered, 3, 3, "seq 2 comes later"},
    {"MovedEarlier",
     [](auto& l) {
       const std::string moved = l.back();
       l.pop_back();
       l.insert(l.begin() + 2, moved);
     },
     AuditDamage::reordered, 3, 10, "belongs after seq 9"},
    {"TruncatedTail", [](auto& l) { l.resize(8); }, AuditDamage::truncated, 9, std::nullopt,
     "ends at seq 7, but its checkpoint records seq 10: 3 lines"},
    {"Malformed", [](auto& l) { l[3] = "not an audit line"; }, AuditDamage::malformed, 4,
     std::nullopt, "not an audit line"},
    {"UpperCaseMac",
     [](auto& l) {
       for (std::size_t i = 4; i < 68; ++i) l[3][i] = static_cast<char>(std::toupper(l[3][i]));
     },
     AuditDamage::malformed, 4, std::nullopt, "no valid MAC"},
    {"HeaderModified", [](auto& l) { l[0][5] = l[0][5] == '0' ? '1' : '0'; }, AuditDamage::modified,
     1, 0, "header does not authenticate"},
};

void PrintTo(const Tamper& tamper, std::ostream* out) {
  *out << tamper.name;
}

class AuditTamper : public ::testing::TestWithParam<Tamper> {};

TEST_P(AuditTamper, IsDetectedAndNamed) {
  TempDir dir;
  const std::string path = dir.file("audit.log");
  auto options = options_for(path);
  options.checkpoint_every = 1;
  write_records(options, 10);
  ASSERT_TRUE(verify({path}).ok());
  edit_lines(path, GetParam().edit);
  const AuditVerifyResult result = verify({path});
  EXPECT_EQ(result.damage, GetParam().damage) << result.describe();
  EXPECT_EQ(result.file, path);
  EXPECT_EQ(result.line, GetParam().line) << result.describe();
  EXPECT_EQ(result.seq, GetParam().seq) << result.describe();
  EXPECT_NE(result.detail.find(GetParam().detail), std::string::npos) << result.describe();
  EXPECT_NE(result.describe().find(std::string(hydra::protect::audit_damage_name(result.damage))),
            std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Cases, AuditTamper, ::testing::ValuesIn(kTampers),
                         [](const ::testing::TestParamInfo<Tamper>& info) {
                           return std::string(info.param.name);
                         });

class AuditVerify : public ::testing::Test {
 protected:
  void SetUp() override {
    auto options = options_for(path);
    options.checkpoint_every = 1;
    write_records(options, 10);
  }
  TempDir dir;
  std::string path = dir.file("audit.log");
};

TEST_F(AuditVerify, WrongKeyIsToldApartFromModification) {
  const AuditVerifyResult result = verify({path}, kOtherKey);
  EXPECT_EQ(result.damage, AuditDamage::wrong_key) << result.describe();
  EXPECT_EQ(result.line, 1u);
  EXPECT_NE(result.detail.find("written with key id " + key_id(kKey) + "; this key's id is " +
                               key_id(kOtherKey)),
            std::string::npos)
      << result.detail;
}

TEST_F(AuditVerify, LastLineCutMidRecordIsTruncated) {
  std::string text = read_file(path);
  text.resize(text.size() - 10);
  write_file(path, text);
  const AuditVerifyResult result = verify({path}, kKey, false);
  EXPECT_EQ(result.damage, AuditDamage::truncated) << result.describe();
  EXPECT_EQ(result.line, 11u);
  EXPECT_NE(result.detail.find("incomplete"), std::string::npos);
}

TEST_F(AuditVerify, ACutTailWithoutItsCheckpointGoesUnnoticed) {
  // The documented limit: the checkpoint is what shows a cut tail.
  edit_lines(path, [](auto& l) { l.resize(8); });
  AuditVerifyResult result = verify({path}, kKey, false);
  EXPECT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.records, 7u);
  // Deleting the checkpoint too is noticed when it is required.
  fs::remove(path + ".checkpoint");
  result = verify({path});
  EXPECT_EQ(result.damage, AuditDamage::checkpoint) << result.describe();
  EXPECT_NE(result.detail.find("does not exist"), std::string::npos);
  hydra::protect::AuditVerifyOptions optional;
  optional.checkpoint = path + ".checkpoint";
  optional.require_checkpoint = false;
  EXPECT_TRUE(
      hydra::protect::verify_audit_files(std::vector<std::string>{path}, kKey, optional).ok());
}

TEST_F(AuditVerify, AModifiedOrForeignCheckpointIsDamage) {
  const std::string checkpoint = read_file(path + ".checkpoint");
  std::string changed = checkpoint;
  changed[2] = '9';  // "C 10 ..." -> "C 90 ..."
  write_file(path + ".checkpoint", changed);
  AuditVerifyResult result = verify({path});
  EXPECT_EQ(result.damage, AuditDamage::checkpoint) << result.describe();
  EXPECT_NE(result.detail.find("does not authenticate"), std::string::npos);

  // A genuine checkpoint of another chain written with the same key.
  const std::string other = dir.file("other.log");
  write_records(options_for(other), 10, "other ");
  write_file(path + ".checkpoint", read_file(other + ".checkpoint"));
  result = verify({path});
  EXPECT_EQ(result.damage, AuditDamage::checkpoint) << result.describe();
  EXPECT_NE(result.detail.find("another chain"), std::string::npos);

  write_file(path + ".checkpoint", "C 1 2 3\n");
  EXPECT_EQ(verify({path}).damage, AuditDamage::checkpoint);
}

TEST_F(AuditVerify, EmptyAndMissingFiles) {
  write_file(dir.file("empty.log"), "");
  const AuditVerifyResult result = verify({dir.file("empty.log")}, kKey, false);
  EXPECT_EQ(result.damage, AuditDamage::truncated) << result.describe();
  EXPECT_THROW(verify({dir.file("missing.log")}, kKey, false), std::system_error);
  EXPECT_THROW(verify({path}, "short"), ConfigError);
}

// ---------------------------------------------------------------------------
// The event schema

TEST(AuditEvent, FieldsFollowTheSchema) {
  using hydra::protect::AuditOutcome;
  const hydra::protect::AuditFields full({.actor = "alice",
                                          .action = "delete",
                                          .resource = "user/42",
                                          .outcome = AuditOutcome::denied,
                                          .reason = "gdpr request"});
  ASSERT_EQ(full.span().size(), 5u);
  const char* keys[] = {"actor", "action", "resource", "outcome", "reason"};
  const char* values[] = {"alice", "delete", "user/42", "denied", "gdpr request"};
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(full.span()[i].key, keys[i]);
    EXPECT_EQ(full.span()[i].value.as_string(), values[i]);
  }
  EXPECT_EQ(full.problem(), "");

  const hydra::protect::AuditFields minimal(
      {.actor = "cron", .action = "rotate", .outcome = AuditOutcome::success});
  ASSERT_EQ(minimal.span().size(), 3u) << "resource and reason are left out when empty";
  EXPECT_EQ(minimal.span()[2].key, "outcome");

  const hydra::protect::AuditFields incomplete({.action = "login"});
  EXPECT_EQ(incomplete.problem(), "missing actor, outcome");
  ASSERT_EQ(incomplete.span().size(), 4u);
  EXPECT_EQ(incomplete.span()[0].value.as_string(), "");
  EXPECT_EQ(incomplete.span()[3].key, "audit_error");
  EXPECT_EQ(incomplete.span()[3].value.as_string(), "missing actor, outcome");
}

TEST(AuditEvent, OutcomeNames) {
  using hydra::protect::AuditOutcome;
  for (const auto o :
       {AuditOutcome::success, AuditOutcome::failure, AuditOutcome::denied, AuditOutcome::error}) {
    EXPECT_EQ(hydra::protect::parse_audit_outcome(hydra::protect::audit_outcome_name(o)), o);
  }
  EXPECT_EQ(hydra::protect::parse_audit_outcome("ok"), std::nullopt);
  EXPECT_EQ(hydra::protect::parse_audit_outcome("Success"), std::nullopt);
}

// ---------------------------------------------------------------------------
// Under a logger, in both modes

class AuditChainLogger : public ::testing::TestWithParam<hydra::LoggerMode> {
 protected:
  hydra::LoggerConfig config(const std::string& path) {
    hydra::LoggerConfig cfg;
    cfg.name = "audited";
    cfg.mode = GetParam();
    hydra::DestinationConfig elsewhere;
    elsewhere.type = "null";
    cfg.layers["APP"].destinations = {elsewhere};
    cfg.layers["AUDIT"].destinations = {hydra::protect::audit_file(options_for(path))};
    return cfg;
  }
  TempDir dir;
  std::string path = dir.file("audit.jsonl");
};

TEST_P(AuditChainLogger, AuditRecordsAreChainedWithTheirEventFields) {
  {
    hydra::Logger log(config(path));
    hydra::protect::audit(log, "user deleted",
                          {.actor = "alice",
                           .action = "delete",
                           .resource = "user/42",
                           .outcome = hydra::protect::AuditOutcome::success,
                           .reason = "gdpr request"});
    log.audit("login {user}", "bob");
    hydra::protect::audit(
        log.layer("AUDIT"), "export refused",
        {.actor = "carol", .action = "export", .outcome = hydra::protect::AuditOutcome::denied});
    log.info("not an audit record");
    log.flush();
    const AuditVerifyResult result = verify({path});
    EXPECT_TRUE(result.ok()) << result.describe();
    EXPECT_EQ(result.records, 3u);
    EXPECT_EQ(result.checkpoint_seq, 3u) << "flush() writes a checkpoint";
  }
  const auto lines = split_lines(read_file(path));
  ASSERT_EQ(lines.size(), 4u);
  const std::string first = parse(lines[1]).payload;
  for (const char* part :
       {R"("level":"audit")", R"("layer":"AUDIT")", R"("message":"user deleted")",
        R"("actor":"alice")", R"("action":"delete")", R"("resource":"user/42")",
        R"("outcome":"success")", R"("reason":"gdpr request")", R"("host":)", R"("pid":)",
        R"("os_user":)"}) {
    EXPECT_NE(first.find(part), std::string::npos) << part << " in " << first;
  }
  EXPECT_EQ(first.front(), '{');
  EXPECT_EQ(first.back(), '}');
  EXPECT_NE(parse(lines[2]).payload.find(R"("user":"bob")"), std::string::npos);
  EXPECT_NE(parse(lines[3]).payload.find(R"("outcome":"denied")"), std::string::npos);
}

TEST_P(AuditChainLogger, ThreadsShareOneUnbrokenChain) {
  constexpr int kThreads = 4;
  constexpr int kEach = 50;
  {
    hydra::Logger log(config(path));
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&log, t] {
        for (int i = 0; i < kEach; ++i) log.audit("thread {t} record {i}", t, i);
      });
    }
    for (auto& thread : threads) thread.join();
  }
  const AuditVerifyResult result = verify({path});
  EXPECT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.records, static_cast<std::uint64_t>(kThreads * kEach));
  EXPECT_EQ(result.checkpoint_seq, result.last_seq) << "closing writes a checkpoint";
}

INSTANTIATE_TEST_SUITE_P(BothModes, AuditChainLogger,
                         ::testing::Values(hydra::LoggerMode::sync, hydra::LoggerMode::async),
                         [](const ::testing::TestParamInfo<hydra::LoggerMode>& info) {
                           return info.param == hydra::LoggerMode::sync ? "sync" : "async";
                         });

}  // namespace
