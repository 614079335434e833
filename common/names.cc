#include "common/names.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace labrack {
namespace {

bool IsLowerAlnum(char c) { return absl::ascii_islower(c) || absl::ascii_isdigit(c); }
bool IsLowerHex(char c) { return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f'); }

absl::Status Invalid(absl::string_view field, absl::string_view value, absl::string_view rule) {
  return absl::InvalidArgumentError(
      absl::StrCat(field, " \"", absl::CHexEscape(value.substr(0, 80)), "\": ", rule));
}

}  // namespace

absl::Status ValidateSandboxId(absl::string_view field, absl::string_view id) {
  constexpr absl::string_view kRule =
      "must be 8 to 64 characters of 0-9, a-f and '-', starting with 8 hex digits";
  if (id.size() < 8 || id.size() > 64) return Invalid(field, id, kRule);
  for (size_t i = 0; i < id.size(); ++i) {
    bool ok = IsLowerHex(id[i]) || (i >= 8 && id[i] == '-');
    if (!ok) return Invalid(field, id, kRule);
  }
  return absl::OkStatus();
}

absl::Status ValidateObjectName(absl::string_view field, absl::string_view name) {
  constexpr absl::string_view kRule =
      "must be 1 to 24 characters of a-z, 0-9 and '-', start with a letter and not end "
      "with '-'";
  if (name.empty() || name.size() > 24) return Invalid(field, name, kRule);
  if (!absl::ascii_islower(name.front()) || name.back() == '-') {
    return Invalid(field, name, kRule);
  }
  for (char c : name) {
    if (!IsLowerAlnum(c) && c != '-') return Invalid(field, name, kRule);
  }
  return absl::OkStatus();
}

absl::Status ValidateImageName(absl::string_view field, absl::string_view name) {
  constexpr absl::string_view kRule =
      "must be 1 to 64 characters of a-z, 0-9, '.', '_' and '-', start with a letter or "
      "digit, and is never a path";
  if (name.empty() || name.size() > 64 || !IsLowerAlnum(name.front())) {
    return Invalid(field, name, kRule);
  }
  for (char c : name) {
    if (!IsLowerAlnum(c) && c != '.' && c != '_' && c != '-') {
      return Invalid(field, name, kRule);
    }
  }
  if (name.find("..") != absl::string_view::npos) return Invalid(field, name, kRule);
  return absl::OkStatus();
}

absl::Status ValidateCandidateId(absl::string_view field, absl::string_view id) {
  constexpr absl::string_view kRule =
      "must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_', '@' and '-', starting with a "
      "letter or digit";
  if (id.empty() || id.size() > 64 || !absl::ascii_isalnum(id.front())) {
    return Invalid(field, id, kRule);
  }
  for (char c : id) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '@' && c != '-') {
      return Invalid(field, id, kRule);
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateSessionName(absl::string_view field, absl::string_view name) {
  constexpr absl::string_view kRule =
      "must be 1 to 63 characters of a-z, 0-9 and '-', starting with a letter or digit";
  if (name.empty() || name.size() > 63 || name.front() == '-') return Invalid(field, name, kRule);
  for (char c : name) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '-') {
      return Invalid(field, name, kRule);
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateSha256(absl::string_view field, absl::string_view hex) {
  if (hex.size() != 64) return Invalid(field, hex, "must be 64 lowercase hex digits");
  for (char c : hex) {
    if (!IsLowerHex(c)) return Invalid(field, hex, "must be 64 lowercase hex digits");
  }
  return absl::OkStatus();
}

absl::Status ValidateFileName(absl::string_view field, absl::string_view name) {
  constexpr absl::string_view kRule =
      "must be a plain file name of 1 to 128 characters of A-Z, a-z, 0-9, '.', '_' and '-'";
  if (name.empty() || name.size() > 128 || name == "." || name == "..") {
    return Invalid(field, name, kRule);
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '-') {
      return Invalid(field, name, kRule);
    }
  }
  return absl::OkStatus();
}

absl::Status ValidatePasswordHash(absl::string_view field, absl::string_view hash) {
  constexpr absl::string_view kRule =
      "must be a crypt(3) hash: '$' then at most 255 characters of A-Z, a-z, 0-9, '.', '/' and '$'";
  if (hash.size() < 2 || hash.size() > 256 || hash[0] != '$') return Invalid(field, hash, kRule);
  for (char c : hash) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '/' && c != '$') {
      return Invalid(field, hash, kRule);
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateNodeChoice(absl::string_view sandbox_id, const std::set<std::string>& known,
                                const std::vector<std::string>& nodes) {
  std::set<std::string> seen;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const std::string field = absl::StrCat("nodes[", i, "]");
    if (absl::Status s = ValidateObjectName(field, nodes[i]); !s.ok()) return s;
    if (!known.contains(nodes[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": sandbox ", sandbox_id, " has no node '", nodes[i], "'"));
    }
    if (!seen.insert(nodes[i]).second) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": node '", nodes[i], "' named twice"));
    }
  }
  return absl::OkStatus();
}

std::string Sandbox8(absl::string_view sandbox_id) {
  return std::string(sandbox_id.substr(0, 8));
}

std::string DomainName(absl::string_view sandbox_id, absl::string_view node) {
  return absl::StrCat(kObjectPrefix, Sandbox8(sandbox_id), "-", node);
}

std::string NetworkName(absl::string_view sandbox_id, absl::string_view network) {
  return absl::StrCat(kObjectPrefix, Sandbox8(sandbox_id), "-", network);
}

std::string BridgeName(absl::string_view sandbox_id, int network_index) {
  return absl::StrCat("lr", Sandbox8(sandbox_id), network_index);
}

bool IsBridgeName(absl::string_view name) {
  if (name.size() < 11 || name.size() > 15 || !absl::StartsWith(name, "lr")) return false;
  for (size_t i = 2; i < name.size(); ++i) {
    const char c = name[i];
    const bool digit = c >= '0' && c <= '9';
    if (i < 10 ? !(digit || (c >= 'a' && c <= 'f')) : !digit) return false;
  }
  return true;
}

absl::Status ValidateBridgeName(absl::string_view field, absl::string_view name) {
  if (IsBridgeName(name)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": '", name, "' is not a labrack bridge name (lr, 8 hex digits, an index)"));
}

std::string TapName(absl::string_view sandbox_id, int node_index, int nic_index) {
  return absl::StrFormat("lr%sv%02x%02x", Sandbox8(sandbox_id), node_index & 0xff,
                         nic_index & 0xff);
}

}  // namespace labrack
