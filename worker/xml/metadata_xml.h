// The labrack tag inside a libvirt object's <metadata>: who owns a domain or network and
// which sandbox, generation and node it belongs to, so that a restarted worker rebuilds its
// state from libvirt alone. Pure functions; thread-safe.
#ifndef LABRACK_WORKER_XML_METADATA_XML_H_
#define LABRACK_WORKER_XML_METADATA_XML_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "pugixml.hpp"
#include "worker/hypervisor/types.h"

namespace labrack::worker {

// The tag's namespace; virDomainGetMetadata/virDomainSetMetadata take it as their key.
inline constexpr char kTagNamespaceUri[] = "http://labrack.dev/xmlns/sandbox/1";
// The prefix labrack writes; libvirt may keep or rewrite it, so readers never rely on it.
inline constexpr char kTagPrefix[] = "labrack";
// Local name of the tag element.
inline constexpr char kTagElement[] = "sandbox";

// Appends <labrack:sandbox xmlns:labrack="..."> with children host, id, generation, node,
// session, candidate, topology and spec to `parent` (a <metadata> element). Empty strings
// are left out; host, id and generation are always written. Returns the new element.
pugi::xml_node AppendTag(pugi::xml_node parent, const ObjectTag& tag);

// The tag element alone, with its namespace declared.
std::string BuildTagXml(const ObjectTag& tag);
// The tag element alone without prefix or namespace declaration, as
// virDomainSetMetadata(VIR_DOMAIN_METADATA_ELEMENT, key kTagPrefix, uri kTagNamespaceUri)
// wants it: libvirt puts the element and its children in the namespace itself and refuses
// an element that declares it ("failed to create a new XML namespace").
std::string BuildTagXmlForSetMetadata(const ObjectTag& tag);

// The tag of a whole <domain> or <network> document as libvirt dumps it: the element under
// <metadata> whose local name is "sandbox" in kTagNamespaceUri, whatever its prefix.
// NotFound when there is none; InvalidArgument when the XML is not well-formed or the tag's
// generation is not a number.
absl::StatusOr<ObjectTag> ParseTag(absl::string_view object_xml);

// As ParseTag, on the root element (<domain> or <network>) of a parsed document.
absl::StatusOr<ObjectTag> FindTag(pugi::xml_node object);

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_XML_METADATA_XML_H_
