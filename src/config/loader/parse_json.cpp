// JSON (nlohmann-json) → Tree. nlohmann does not keep positions, so once it
// has accepted the text a small scanner walks the same text again to find the
// line of every key (it may assume valid JSON, which keeps it short). The
// scanner also refuses what nlohmann lets through: a key written twice in
// one object (nlohmann keeps the last) and a document past the bounds.
#include <algorithm>
#include <functional>
#include <set>
#include <string>

#include "hydra/core/error.hpp"
#include "tree.hpp"

namespace hydra::config_detail {

namespace {

// Walks valid JSON text, recording the line of each key (and list item).
class LineScanner {
 public:
  LineScanner(std::string_view text, Tree& tree) : text_(text), tree_(tree), budget_(tree) {
    if (text_.starts_with("\xEF\xBB\xBF")) pos_ = 3;  // a UTF-8 BOM, which nlohmann accepts
  }

  void value(const std::string& path, std::size_t depth = 0) {
    skip_space();
    if (pos_ >= text_.size()) return;
    if (!path.empty()) tree_.origins[path] = Origin{tree_.source, line_};
    budget_.count(path, depth);
    const char c = text_[pos_];
    if (c == '{') {
      ++pos_;
      std::set<std::string, std::less<>> keys;
      while (true) {
        skip_space();
        if (pos_ >= text_.size() || text_[pos_] == '}') break;
        if (text_[pos_] == ',') {
          ++pos_;
          continue;
        }
        const int key_line = line_;
        const std::string key = string_token();
        skip_space();
        ++pos_;  // ':'
        const std::string child = child_path(path, key);
        if (!keys.insert(key).second) duplicate_key(tree_, child, key_line);
        value(child, depth + 1);
        tree_.origins[child].line = key_line;
      }
      ++pos_;
    } else if (c == '[') {
      ++pos_;
      for (std::size_t i = 0;; ++i) {
        skip_space();
        if (pos_ >= text_.size() || text_[pos_] == ']') break;
        if (text_[pos_] == ',') {
          ++pos_;
          skip_space();
        }
        value(index_path(path, i), depth + 1);
      }
      ++pos_;
    } else if (c == '"') {
      string_token();
    } else {
      while (pos_ < text_.size() &&
             std::string_view(",]} \t\r\n").find(text_[pos_]) == std::string_view::npos) {
        ++pos_;
      }
    }
  }

 private:
  void skip_space() {
    while (pos_ < text_.size() &&
           std::string_view(" \t\r\n").find(text_[pos_]) != std::string_view::npos) {
      if (text_[pos_] == '\n') ++line_;
      ++pos_;
    }
  }

  // A string token, decoded (escapes and all) by nlohmann itself.
  std::string string_token() {
    const std::size_t start = pos_++;
    while (pos_ < text_.size() && text_[pos_] != '"') pos_ += text_[pos_] == '\\' ? 2 : 1;
    ++pos_;
    return Json::parse(text_.substr(start, pos_ - start)).get<std::string>();
  }

  std::string_view text_;
  Tree& tree_;
  DocumentBudget budget_;
  std::size_t pos_ = 0;
  int line_ = 1;
};

}  // namespace

Tree parse_json(std::string_view text, const std::string& source) {
  Tree tree;
  tree.source = source;
  try {
    tree.value = Json::parse(text);
  } catch (const Json::parse_error& e) {
    const std::size_t upto = std::min(e.byte, text.size());
    const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<long>(upto), '\n');
    // e.what() reads "[json.exception.parse_error.101] parse error at line 3, ...".
    std::string what = e.what();
    if (const auto pos = what.find("] "); pos != std::string::npos) what = what.substr(pos + 2);
    throw ConfigError(source + ":" + std::to_string(line) + ": JSON " + what);
  }
  if (!tree.value.is_object()) {
    throw ConfigError(source + ": the top level must be an object of settings, not " +
                      describe(tree.value));
  }
  LineScanner(text, tree).value("");
  return tree;
}

}  // namespace hydra::config_detail
