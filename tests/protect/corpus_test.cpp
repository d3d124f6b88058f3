// The labelled corpus (corpus.tsv): precision and recall per detector.
//
// A positive line counts as a true positive for its detector when the output
// is exactly the expected text, and as a false negative otherwise. A negative
// line must come out unchanged; when it does not, every detector that changes
// it on its own counts a false positive. Lines run with the default
// detectors plus their own (ipv4, ipv6 and iban are off by default); "any"
// lines, negatives for every detector, run with all of them on.
#include <gtest/gtest.h>
#include <hydra/protect/redactor.hpp>

#include <array>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

using hydra::protect::Detector;
using hydra::protect::kDetectorCount;
using hydra::protect::Redactor;
using hydra::protect::RedactorOptions;

struct CorpusLine {
  int number;
  std::optional<Detector> detector;  // none: "any" (a negative for all)
  bool positive;
  std::string input;
  std::string expected;
};

std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      const char c = s[++i];
      out.push_back(c == 'n' ? '\n' : c == 't' ? '\t' : c);
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> cols;
  std::size_t start = 0;
  for (std::size_t tab; (tab = line.find('\t', start)) != std::string::npos; start = tab + 1) {
    cols.push_back(line.substr(start, tab - start));
  }
  cols.push_back(line.substr(start));
  return cols;
}

std::vector<CorpusLine> load_corpus() {
  std::ifstream in(HYDRA_PROTECT_CORPUS);
  EXPECT_TRUE(in) << "cannot open " << HYDRA_PROTECT_CORPUS;
  std::vector<CorpusLine> lines;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty() || line[0] == '#') continue;
    const auto cols = split_tabs(line);
    if (cols.size() < 3) {
      ADD_FAILURE() << "corpus.tsv:" << number << ": fewer than 3 columns";
      continue;
    }
    CorpusLine c{number, std::nullopt, cols[1] == "pos", unescape(cols[2]), {}};
    if (cols[0] != "any") {
      c.detector = hydra::protect::parse_detector(cols[0]);
      if (!c.detector) ADD_FAILURE() << "corpus.tsv:" << number << ": unknown detector " << cols[0];
    }
    if (c.positive) {
      if (cols.size() != 4 || !c.detector) {
        ADD_FAILURE() << "corpus.tsv:" << number << ": a positive needs a detector and an output";
        continue;
      }
      c.expected = unescape(cols[3]);
    } else if (cols[1] != "neg" || cols.size() != 3) {
      ADD_FAILURE() << "corpus.tsv:" << number << ": kind must be pos (4 columns) or neg (3)";
      continue;
    }
    lines.push_back(std::move(c));
  }
  return lines;
}

// The configuration a line runs with: the defaults plus its own detector;
// every detector for an "any" line.
RedactorOptions options_for(std::optional<Detector> d) {
  RedactorOptions o;
  if (d) {
    o.detector(*d).enabled = true;
  } else {
    for (auto& s : o.detectors) s.enabled = true;
  }
  return o;
}

class CorpusTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { lines_ = new std::vector<CorpusLine>(load_corpus()); }
  static void TearDownTestSuite() {
    delete lines_;
    lines_ = nullptr;
  }

  const Redactor& for_line(const CorpusLine& line) {
    const int key = line.detector ? static_cast<int>(*line.detector) : -1;
    auto& r = by_config_[key];
    if (!r) r = std::make_unique<Redactor>(options_for(line.detector));
    return *r;
  }

  const Redactor& only(Detector d) {
    auto& r = single_[static_cast<std::size_t>(d)];
    if (!r) {
      RedactorOptions o;
      for (auto& s : o.detectors) s.enabled = false;
      o.detector(d).enabled = true;
      r = std::make_unique<Redactor>(o);
    }
    return *r;
  }

  static std::vector<CorpusLine>* lines_;
  std::map<int, std::unique_ptr<Redactor>> by_config_;
  std::array<std::unique_ptr<Redactor>, kDetectorCount> single_;
};
std::vector<CorpusLine>* CorpusTest::lines_ = nullptr;

TEST_F(CorpusTest, HoldsAtLeast200LinesWithPositivesAndNegativesForEveryDetector) {
  EXPECT_GE(lines_->size(), 200u);
  std::array<int, kDetectorCount> positives{};
  std::array<int, kDetectorCount> negatives{};
  for (const auto& l : *lines_) {
    if (!l.detector) continue;
    (l.positive ? positives : negatives)[static_cast<std::size_t>(*l.detector)]++;
  }
  for (std::size_t d = 0; d < kDetectorCount; ++d) {
    const auto name = hydra::protect::detector_name(static_cast<Detector>(d));
    EXPECT_GE(positives[d], 4) << name;
    EXPECT_GE(negatives[d], 2) << name;
  }
}

TEST_F(CorpusTest, EveryNegativeComesOutUnchanged) {
  for (const auto& l : *lines_) {
    if (l.positive) continue;
    std::string out;
    EXPECT_EQ(for_line(l).redact(l.input, out), hydra::protect::Outcome::unchanged)
        << "corpus.tsv:" << l.number << ": " << l.input << "\n  became: " << out;
  }
}

// The scanner works 16 bytes at a time and looks at neighbouring blocks: the
// same text must give the same result wherever it falls against them.
TEST_F(CorpusTest, ResultsDoNotDependOnThePositionInTheText) {
  for (const auto& l : *lines_) {
    const std::string expected = l.positive ? l.expected : l.input;
    // A private key cut off runs to the end of the text: no padding after.
    const bool pad_after = l.detector != Detector::private_key;
    for (std::size_t before = 0; before <= 40; ++before) {
      const std::size_t after = pad_after ? before % 19 : 0;
      const std::string pad(before, ' ');
      const std::string tail(after, ' ');
      EXPECT_EQ(for_line(l).redacted(pad + l.input + tail), pad + expected + tail)
          << "corpus.tsv:" << l.number << " with " << before << " spaces before, " << after
          << " after";
    }
  }
}

TEST_F(CorpusTest, PrecisionAndRecallPerDetector) {
  struct Counts {
    int tp = 0, fn = 0, fp = 0, negatives = 0;
  };
  std::array<Counts, kDetectorCount> counts{};
  for (const auto& l : *lines_) {
    const std::string out = for_line(l).redacted(l.input);
    if (l.positive) {
      Counts& c = counts[static_cast<std::size_t>(*l.detector)];
      if (out == l.expected) {
        ++c.tp;
      } else {
        ++c.fn;
        std::printf(
            "  miss  corpus.tsv:%d [%s]\n    in:       %s\n    expected: %s\n    got:      %s\n",
            l.number, hydra::protect::detector_name(*l.detector).data(), l.input.c_str(),
            l.expected.c_str(), out.c_str());
      }
      continue;
    }
    const RedactorOptions config = options_for(l.detector);
    for (std::size_t d = 0; d < kDetectorCount; ++d) {
      const auto det = static_cast<Detector>(d);
      if (!config.detector(det).enabled) continue;
      ++counts[d].negatives;
      if (only(det).redacted(l.input) != l.input) ++counts[d].fp;
    }
  }

  std::printf("\n%-16s %4s %4s %4s %6s %4s %10s %7s\n", "detector", "pos", "TP", "FN", "neg", "FP",
              "precision", "recall");
  for (std::size_t d = 0; d < kDetectorCount; ++d) {
    const Counts& c = counts[d];
    const double precision = c.tp + c.fp > 0 ? double(c.tp) / (c.tp + c.fp) : 1.0;
    const double recall = c.tp + c.fn > 0 ? double(c.tp) / (c.tp + c.fn) : 1.0;
    const auto name = hydra::protect::detector_name(static_cast<Detector>(d));
    std::printf("%-16s %4d %4d %4d %6d %4d %10.3f %7.3f\n", name.data(), c.tp + c.fn, c.tp, c.fn,
                c.negatives, c.fp, precision, recall);
    EXPECT_GE(precision, 0.95) << name;
    EXPECT_GE(recall, 0.95) << name;
  }
  std::printf("\n(neg: negative lines run with the detector on; FP: those it changed)\n");
}

}  // namespace
