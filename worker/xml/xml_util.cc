// Small pugixml helpers shared by the labrack XML builders and parsers.
// Pure functions; thread-safe.
#include "worker/xml/xml_util.h"

#include <limits>
#include <sstream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace labrack::worker::xml_internal {

std::string Serialize(const pugi::xml_document& doc) {
  std::ostringstream out;
  doc.save(out, "  ",
           pugi::format_indent | pugi::format_no_declaration | pugi::format_attribute_single_quote,
           pugi::encoding_utf8);
  return out.str();
}

absl::Status Load(absl::string_view xml, const char* root, absl::string_view what,
                  pugi::xml_document& doc) {
  // Keep a text that is only whitespace when it is an element's only child, so that such
  // a value (say a spec) reads back as written; indentation between elements is dropped.
  unsigned int options = pugi::parse_default | pugi::parse_ws_pcdata_single;
  pugi::xml_parse_result result =
      doc.load_buffer(xml.data(), xml.size(), options, pugi::encoding_utf8);
  if (!result) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " is not well-formed XML: ", result.description(), " at offset ", result.offset));
  }
  if (root != nullptr && absl::string_view(doc.document_element().name()) != root) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": root element is <", doc.document_element().name(), ">, expected <", root, ">"));
  }
  return absl::OkStatus();
}

void SetAttr(pugi::xml_node node, const char* attr, absl::string_view value) {
  node.append_attribute(attr).set_value(std::string(value).c_str());
}

pugi::xml_node AppendText(pugi::xml_node parent, const char* name, absl::string_view text) {
  pugi::xml_node node = parent.append_child(name);
  node.text().set(std::string(text).c_str());
  return node;
}

pugi::xml_node AppendWithAttr(pugi::xml_node parent, const char* name, const char* attr,
                              absl::string_view value) {
  pugi::xml_node node = parent.append_child(name);
  SetAttr(node, attr, value);
  return node;
}

absl::string_view LocalName(absl::string_view qualified) {
  size_t colon = qualified.find(':');
  return colon == absl::string_view::npos ? qualified : qualified.substr(colon + 1);
}

absl::string_view NamespaceUri(pugi::xml_node element) {
  absl::string_view name = element.name();
  size_t colon = name.find(':');
  std::string attr = colon == absl::string_view::npos
                         ? std::string("xmlns")
                         : absl::StrCat("xmlns:", name.substr(0, colon));
  for (pugi::xml_node n = element; n; n = n.parent()) {
    if (pugi::xml_attribute a = n.attribute(attr.c_str())) return a.value();
  }
  return "";
}

absl::StatusOr<uint64_t> ParseUint64(absl::string_view field, absl::string_view text) {
  absl::string_view digits = absl::StripAsciiWhitespace(text);
  uint64_t value = 0;
  // SimpleAtoi accepts a sign; a count never has one.
  if (digits.empty() || !absl::ascii_isdigit(digits[0]) || !absl::SimpleAtoi(digits, &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": '", text, "' is not a non-negative integer"));
  }
  return value;
}

absl::StatusOr<uint32_t> ParseUint32(absl::string_view field, absl::string_view text) {
  absl::StatusOr<uint64_t> value = ParseUint64(field, text);
  if (!value.ok()) return value.status();
  if (*value > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", *value, " is too large"));
  }
  return static_cast<uint32_t>(*value);
}

}  // namespace labrack::worker::xml_internal
