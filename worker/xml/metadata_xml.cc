// The labrack tag inside a libvirt object's <metadata>, written and read with pugixml.
// Pure functions; thread-safe.
#include "worker/xml/metadata_xml.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "worker/xml/xml_util.h"

namespace labrack::worker {
namespace {

using xml_internal::LocalName;
using xml_internal::NamespaceUri;

// `prefix` is "labrack:" or "" (the form virDomainSetMetadata takes).
void AppendField(pugi::xml_node tag, absl::string_view prefix, const char* name,
                 absl::string_view value, bool always = false) {
  if (value.empty() && !always) return;
  xml_internal::AppendText(tag, absl::StrCat(prefix, name).c_str(), value);
}

void AppendFields(pugi::xml_node node, absl::string_view prefix, const ObjectTag& tag) {
  AppendField(node, prefix, "host", tag.host_id, /*always=*/true);
  AppendField(node, prefix, "id", tag.sandbox_id, /*always=*/true);
  AppendField(node, prefix, "generation", absl::StrCat(tag.generation), /*always=*/true);
  AppendField(node, prefix, "node", tag.node);
  AppendField(node, prefix, "session", tag.session_id);
  AppendField(node, prefix, "candidate", tag.candidate);
  AppendField(node, prefix, "topology", tag.topology);
  AppendField(node, prefix, "spec", tag.spec_json);
}

bool IsTagElement(pugi::xml_node node) {
  return node.type() == pugi::node_element && LocalName(node.name()) == kTagElement &&
         NamespaceUri(node) == kTagNamespaceUri;
}

// Reads one child of the tag into `tag`; unknown children are ignored so that a newer
// worker's extra fields do not break an older reader.
absl::Status ReadField(pugi::xml_node child, ObjectTag& tag) {
  absl::string_view name = LocalName(child.name());
  std::string value = child.child_value();
  if (name == "host") tag.host_id = std::move(value);
  if (name == "id") tag.sandbox_id = std::move(value);
  if (name == "node") tag.node = std::move(value);
  if (name == "session") tag.session_id = std::move(value);
  if (name == "candidate") tag.candidate = std::move(value);
  if (name == "topology") tag.topology = std::move(value);
  if (name == "spec") tag.spec_json = std::move(value);
  if (name == "generation") {
    absl::StatusOr<uint64_t> generation = xml_internal::ParseUint64("tag generation", value);
    if (!generation.ok()) return generation.status();
    tag.generation = *generation;
  }
  return absl::OkStatus();
}

}  // namespace

pugi::xml_node AppendTag(pugi::xml_node parent, const ObjectTag& tag) {
  pugi::xml_node node = parent.append_child(absl::StrCat(kTagPrefix, ":", kTagElement).c_str());
  xml_internal::SetAttr(node, absl::StrCat("xmlns:", kTagPrefix).c_str(), kTagNamespaceUri);
  AppendFields(node, absl::StrCat(kTagPrefix, ":"), tag);
  return node;
}

std::string BuildTagXmlForSetMetadata(const ObjectTag& tag) {
  pugi::xml_document doc;
  AppendFields(doc.append_child(kTagElement), "", tag);
  return xml_internal::Serialize(doc);
}

std::string BuildTagXml(const ObjectTag& tag) {
  pugi::xml_document doc;
  AppendTag(doc, tag);
  return xml_internal::Serialize(doc);
}

absl::StatusOr<ObjectTag> FindTag(pugi::xml_node object) {
  for (pugi::xml_node node : object.child("metadata").children()) {
    if (!IsTagElement(node)) continue;
    ObjectTag tag;
    bool has_generation = false;
    for (pugi::xml_node child : node.children()) {
      if (child.type() != pugi::node_element) continue;
      has_generation |= LocalName(child.name()) == "generation";
      absl::Status status = ReadField(child, tag);
      if (!status.ok()) return status;
    }
    if (!has_generation) return absl::InvalidArgumentError("tag has no generation");
    return tag;
  }
  return absl::NotFoundError(absl::StrCat("no <", kTagElement, "> tag in namespace ",
                                          kTagNamespaceUri, " under <", object.name(),
                                          "><metadata>"));
}

absl::StatusOr<ObjectTag> ParseTag(absl::string_view object_xml) {
  pugi::xml_document doc;
  absl::Status loaded = xml_internal::Load(object_xml, nullptr, "object XML", doc);
  if (!loaded.ok()) return loaded;
  return FindTag(doc.document_element());
}

}  // namespace labrack::worker
