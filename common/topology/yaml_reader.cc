// Strict YAML reading with field-path line tracking; see yaml_reader.h.
#include "common/topology/yaml_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"

namespace labrack {
namespace {

std::string KindOf(const YAML::Node& node) {
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  if (node.IsScalar()) return absl::StrCat("\"", absl::CHexEscape(node.Scalar()), "\"");
  return "nothing";
}

std::string JoinPath(absl::string_view path, absl::string_view key) {
  return path.empty() ? std::string(key) : absl::StrCat(path, ".", key);
}

bool Contains(KeyList keys, absl::string_view key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

bool IsPlainDecimal(absl::string_view text) {
  if (text.empty() || (text.size() > 1 && text.front() == '0')) return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return absl::ascii_isdigit(c); });
}

// The field path a validator's message starts with: up to the first space or colon.
absl::string_view LeadingPath(absl::string_view message) {
  return message.substr(0, std::min(message.find(' '), message.find(':')));
}

// "nodes[1].nics[0]" -> "nodes[1].nics" -> "nodes[1]" -> "nodes" -> "".
absl::string_view ParentPath(absl::string_view path) {
  size_t cut = path.find_last_of(".[");
  return cut == absl::string_view::npos ? absl::string_view() : path.substr(0, cut);
}

}  // namespace

absl::StatusOr<std::string> ReadYamlFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", strerror(errno)));
  std::string text(kMaxYamlFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return absl::NotFoundError(absl::StrCat(path, ": cannot read"));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxYamlFileBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": larger than ", kMaxYamlFileBytes, " bytes"));
  }
  return text;
}

absl::StatusOr<YAML::Node> YamlReader::Load(absl::string_view text) {
  try {
    YAML::Node root = YAML::Load(std::string(text));
    Remember("", root);
    return root;
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(source_, ":", e.mark.line + 1,
                                                   ": malformed YAML at column ", e.mark.column + 1,
                                                   ": ", e.msg));
  }
}

absl::StatusOr<YamlMap> YamlReader::Map(const YAML::Node& node, const std::string& path,
                                        KeyList allowed, KeyList required) {
  if (!node.IsMap()) {
    return ErrorAt(node, path, absl::StrCat("must be a map of key: value, got ", KindOf(node)));
  }
  YamlMap map(this, path);
  for (const auto& entry : node) {
    const YAML::Node& key = entry.first;
    if (!key.IsScalar()) return ErrorAt(key, path, "keys must be plain words");
    std::string field = JoinPath(path, key.Scalar());
    RETURN_IF_ERROR(CountValue(key, field));
    if (!Contains(allowed, key.Scalar())) {
      return ErrorAt(key, field,
                     absl::StrCat("unknown key (allowed: ", absl::StrJoin(allowed, ", "), ")"));
    }
    if (map.Get(key.Scalar()) != nullptr) {
      return ErrorOnLine(key.Mark().line + 1, field,
                         absl::StrCat("key given twice (first on line ", lines_[field], ")"));
    }
    // The key's line: a block list or map under it starts on the next line, and an empty
    // value has no line of its own.
    Remember(field, key);
    map.entries_.emplace_back(key.Scalar(), entry.second);
  }
  for (absl::string_view key : required) {
    if (map.Get(key) == nullptr) {
      return ErrorAt(node, path, absl::StrCat("missing required key \"", key, "\""));
    }
  }
  return map;
}

absl::Status YamlReader::List(const YAML::Node& node, const std::string& path,
                              const ItemReader& item) {
  if (!node.IsSequence()) {
    return ErrorAt(node, path, absl::StrCat("must be a list, got ", KindOf(node)));
  }
  size_t i = 0;
  for (const YAML::Node& element : node) {
    std::string item_path = absl::StrCat(path, "[", i++, "]");
    RETURN_IF_ERROR(CountValue(element, item_path));
    Remember(item_path, element);
    RETURN_IF_ERROR(item(element, item_path));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> YamlReader::String(const YAML::Node& node, const std::string& path) {
  if (!node.IsScalar()) {
    return ErrorAt(node, path, absl::StrCat("must be a string, got ", KindOf(node)));
  }
  return node.Scalar();
}

absl::StatusOr<uint64_t> YamlReader::Number(const YAML::Node& node, const std::string& path,
                                            uint64_t max) {
  std::string rule = absl::StrCat("must be a whole number from 0 to ", max, ", got ");
  if (!node.IsScalar()) return ErrorAt(node, path, absl::StrCat(rule, KindOf(node)));
  if (node.Tag() != "?") {
    return ErrorAt(node, path, absl::StrCat(rule, "the quoted string ", KindOf(node)));
  }
  const std::string& text = node.Scalar();
  // 20 digits hold any uint64; more cannot be in range and would overflow below.
  if (!IsPlainDecimal(text) || text.size() > 20) {
    return ErrorAt(node, path, absl::StrCat(rule, text));
  }
  uint64_t value = 0;
  for (char c : text) {
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      return ErrorAt(node, path, absl::StrCat(rule, text));
    }
    value = value * 10 + digit;
  }
  if (value > max) return ErrorAt(node, path, absl::StrCat(rule, text));
  return value;
}

absl::Status YamlReader::ErrorAt(const YAML::Node& node, absl::string_view path,
                                 absl::string_view rule) const {
  auto it = lines_.find(path);
  return ErrorOnLine(it != lines_.end() ? it->second : node.Mark().line + 1, path, rule);
}

absl::Status YamlReader::ErrorOnLine(int line, absl::string_view path,
                                     absl::string_view rule) const {
  std::string where = source_;
  if (line > 0) absl::StrAppend(&where, ":", line);
  if (!path.empty()) absl::StrAppend(&where, ": ", path);
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", rule));
}

absl::Status YamlReader::Locate(const absl::Status& status) const {
  if (status.ok()) return status;
  for (absl::string_view path = LeadingPath(status.message());; path = ParentPath(path)) {
    auto it = lines_.find(path);
    if (it != lines_.end()) {
      return absl::Status(status.code(),
                          absl::StrCat(source_, ":", it->second, ": ", status.message()));
    }
    if (path.empty()) break;
  }
  return absl::Status(status.code(), absl::StrCat(source_, ": ", status.message()));
}

void YamlReader::Remember(const std::string& path, const YAML::Node& node) {
  if (node.Mark().line >= 0) lines_[path] = node.Mark().line + 1;
}

absl::Status YamlReader::CountValue(const YAML::Node& node, const std::string& path) {
  if (++values_ <= kMaxYamlValues) return absl::OkStatus();
  return ErrorAt(node, path,
                 absl::StrCat("the document holds more than ", kMaxYamlValues,
                              " values, counting each use of an alias (&name, *name) anew"));
}

absl::Status YamlMap::String(absl::string_view key, std::string* out) const {
  const YAML::Node* node = Get(key);
  if (node == nullptr) return absl::OkStatus();
  ASSIGN_OR_RETURN(*out, reader_->String(*node, PathOf(key)));
  return absl::OkStatus();
}

absl::Status YamlMap::Uint32(absl::string_view key, uint32_t* out) const {
  uint64_t value = *out;
  RETURN_IF_ERROR(Number(key, std::numeric_limits<uint32_t>::max(), &value));
  *out = static_cast<uint32_t>(value);
  return absl::OkStatus();
}

absl::Status YamlMap::Uint64(absl::string_view key, uint64_t* out) const {
  return Number(key, std::numeric_limits<uint64_t>::max(), out);
}

absl::Status YamlMap::Number(absl::string_view key, uint64_t max, uint64_t* out) const {
  const YAML::Node* node = Get(key);
  if (node == nullptr) return absl::OkStatus();
  ASSIGN_OR_RETURN(*out, reader_->Number(*node, PathOf(key), max));
  return absl::OkStatus();
}

absl::Status YamlMap::List(absl::string_view key, const ItemReader& item) const {
  const YAML::Node* node = Get(key);
  if (node == nullptr) return absl::OkStatus();
  return reader_->List(*node, PathOf(key), item);
}

const YAML::Node* YamlMap::Get(absl::string_view key) const {
  for (const auto& [k, v] : entries_) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::string YamlMap::PathOf(absl::string_view key) const { return JoinPath(path_, key); }

}  // namespace labrack
