// Small pugixml helpers shared by the labrack XML builders and parsers: one output style
// (two-space indent, single-quoted attributes, as libvirt prints), strict loading and
// number parsing that report InvalidArgument. Pure functions; thread-safe.
#ifndef LABRACK_WORKER_XML_XML_UTIL_H_
#define LABRACK_WORKER_XML_XML_UTIL_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "pugixml.hpp"

namespace labrack::worker::xml_internal {

// The document as text, without an XML declaration; every value escaped by pugixml.
std::string Serialize(const pugi::xml_document& doc);

// Parses `xml` into `doc`. InvalidArgument naming `what` when it is not well-formed or
// (unless `root` is null) its root element is not `root`. pugixml never loads external
// entities or DTDs.
absl::Status Load(absl::string_view xml, const char* root, absl::string_view what,
                  pugi::xml_document& doc);

// Appends <name>text</name> and returns it.
pugi::xml_node AppendText(pugi::xml_node parent, const char* name, absl::string_view text);
// Appends <name/> with one attribute and returns it.
pugi::xml_node AppendWithAttr(pugi::xml_node parent, const char* name, const char* attr,
                              absl::string_view value);
void SetAttr(pugi::xml_node node, const char* attr, absl::string_view value);

// The part of a qualified name after its prefix ("labrack:host" -> "host").
absl::string_view LocalName(absl::string_view qualified);
// The namespace URI that `element`'s own prefix (or the default namespace) is bound to, by
// the nearest xmlns declaration on it or its ancestors; empty when unbound.
absl::string_view NamespaceUri(pugi::xml_node element);

// A decimal number; InvalidArgument naming `field` otherwise.
absl::StatusOr<uint64_t> ParseUint64(absl::string_view field, absl::string_view text);
absl::StatusOr<uint32_t> ParseUint32(absl::string_view field, absl::string_view text);

}  // namespace labrack::worker::xml_internal

#endif  // LABRACK_WORKER_XML_XML_UTIL_H_
