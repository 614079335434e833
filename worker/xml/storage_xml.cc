// libvirt storage pool and volume XML, built and parsed with pugixml.
// Pure functions; thread-safe.
#include "worker/xml/storage_xml.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "pugixml.hpp"
#include "worker/xml/xml_util.h"

namespace labrack::worker {

using xml_internal::AppendText;
using xml_internal::AppendWithAttr;
using xml_internal::SetAttr;

std::string BuildPoolXml(absl::string_view name, absl::string_view dir) {
  pugi::xml_document doc;
  pugi::xml_node pool = doc.append_child("pool");
  SetAttr(pool, "type", "dir");
  AppendText(pool, "name", name);
  AppendText(pool.append_child("target"), "path", dir);
  return xml_internal::Serialize(doc);
}

absl::StatusOr<std::string> ParsePoolTargetPath(absl::string_view xml) {
  pugi::xml_document doc;
  RETURN_IF_ERROR(xml_internal::Load(xml, "pool", "storage pool XML", doc));
  pugi::xml_node path = doc.document_element().child("target").child("path");
  if (!path || path.text().empty()) {
    return absl::InvalidArgumentError("storage pool XML has no <target><path>");
  }
  return std::string(path.child_value());
}

std::string BuildVolumeXml(const VolumeSpec& spec) {
  pugi::xml_document doc;
  pugi::xml_node volume = doc.append_child("volume");
  SetAttr(volume, "type", "file");
  AppendText(volume, "name", spec.name);
  // Without a capacity qemu-img gives an overlay its backing file's size.
  if (spec.capacity_bytes > 0 || spec.backing_path.empty()) {
    SetAttr(AppendText(volume, "capacity", absl::StrCat(spec.capacity_bytes)), "unit", "bytes");
  }
  SetAttr(AppendText(volume, "allocation", "0"), "unit", "bytes");
  pugi::xml_node target = volume.append_child("target");
  AppendWithAttr(target, "format", "type", "qcow2");
  // qcow2 v3: libvirt would otherwise write v2 (0.10), which cannot mark a discarded
  // cluster of an overlay as zero and is slower to allocate.
  AppendText(target, "compat", "1.1");
  if (!spec.backing_path.empty()) {
    pugi::xml_node backing = volume.append_child("backingStore");
    AppendText(backing, "path", spec.backing_path);
    AppendWithAttr(backing, "format", "type", DiskFormatName(spec.backing_format));
  }
  return xml_internal::Serialize(doc);
}

}  // namespace labrack::worker
