#include "worker/sandbox/node_templates.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/file_range.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "spdlog/spdlog.h"
#include "worker/hypervisor/save_image.h"
#include "worker/sandbox/guest_identity.h"

namespace labrack::worker {
namespace {

// Bumped whenever what a template holds, or how it is restored, changes.
constexpr char kTemplateFormat[] = "labrack-template-1";

// Leaves the stamp that the node runs restored from `key`.
absl::Status Stamp(const NodePlan& node, const std::string& key) {
  const std::string path = RestoredStampPath(node.domain.serial_log);
  FILE* f = fopen(path.c_str(), "w");
  if (f == nullptr) return absl::InternalError(absl::StrCat("create ", path));
  fprintf(f, "%s\n", key.c_str());
  return fclose(f) == 0 ? absl::OkStatus() : absl::InternalError(absl::StrCat("write ", path));
}

// Removes the <metadata> element (labrack's tag) from a save image's XML, in place.
absl::Status ScrubSavedXml(const std::string& state) {
  ASSIGN_OR_RETURN(SaveImageHeader header, ReadSaveImageHeader(state));
  std::string xml = header.domain_xml;
  const size_t begin = xml.find("<metadata");
  const size_t end = xml.find("</metadata>");
  if (begin != std::string::npos && end != std::string::npos && end > begin) {
    xml.erase(begin, end + std::string("</metadata>").size() - begin);
  } else if (begin != std::string::npos) {
    return absl::InternalError(absl::StrCat("unexpected metadata in the XML of ", state));
  }
  return RewriteSaveImageXml(state, xml);
}

}  // namespace

std::string RestoredStampPath(const std::string& serial_log) {
  return absl::StrCat(serial_log, ".restored");
}

std::string NodeTemplates::KeyFor(const NodePlan& node) const {
  const DomainSpec& d = node.domain;
  std::string text = absl::StrCat(kTemplateFormat, "\nhypervisor=", hypervisor_,
                                  "\ntype=", DomainTypeName(d.type), "\nvcpus=", d.vcpus,
                                  "\nmemory_mib=", d.memory_mib, "\nkernel=", d.kernel,
                                  "\ninitrd=", d.initrd, "\ncmdline=", d.cmdline, "\n");
  for (const VolumeSpec& v : node.volumes) {
    absl::StrAppend(&text, "volume capacity=", v.capacity_bytes, " backing=", v.backing_path,
                    " format=", DiskFormatName(v.backing_format), "\n");
  }
  for (const DomainDisk& disk : d.disks) {
    absl::StrAppend(&text, "disk ", disk.target, " ", DiskFormatName(disk.format));
    for (const BackingFile& b : disk.backing) absl::StrAppend(&text, " <- ", b.path);
    absl::StrAppend(&text, "\n");
  }
  for (const DomainNic& nic : d.nics) absl::StrAppend(&text, "nic ", nic.mac, "\n");
  Sha256 hash;
  hash.Update(text);
  return hash.HexDigest().substr(0, 32);
}

absl::Status NodeTemplates::RunFrom(const NodePlan& node, const std::string& state) {
  ASSIGN_OR_RETURN(std::string definition, hv_->GetDomainDefinition(node.domain.name));
  // A copy whose XML is this domain's: libvirt restores a state only into the domain
  // (name and UUID) its XML names. Removed once qemu has read it.
  const std::string copy = absl::StrCat(node.domain.serial_log, ".restore.sav");
  RETURN_IF_ERROR(WriteSaveImageWithXml(state, definition, copy));
  absl::Status restored = hv_->RestoreDomain(copy);
  unlink(copy.c_str());
  RETURN_IF_ERROR(restored);
  return GiveIdentity(hv_, node.domain.name, GuestIdentity{node.password_hash}, clock_,
                      identity_timeout_);
}

absl::Status NodeTemplates::Restore(const NodePlan& node) {
  ASSIGN_OR_RETURN(std::shared_ptr<const NodeTemplateFiles> t, store_->Use(KeyFor(node)));
  if (t->volumes.size() != node.volumes.size()) {
    return absl::DataLossError(absl::StrCat("template ", t->key, " holds ", t->volumes.size(),
                                            " volumes, the node has ", node.volumes.size()));
  }
  // Before anything is made: a file a template cannot restore is refused here.
  RETURN_IF_ERROR(ReadSaveImageHeader(t->state).status());
  for (size_t i = 0; i < node.volumes.size(); ++i) {
    VolumeSpec vol = node.volumes[i];
    vol.content_from = t->volumes[i];
    RETURN_IF_ERROR(hv_->CreateVolume(vol).status());
  }
  RETURN_IF_ERROR(hv_->DefineDomain(node.domain));
  RETURN_IF_ERROR(RunFrom(node, t->state));
  return Stamp(node, t->key);
}

absl::Status NodeTemplates::Capture(const NodePlan& node, const std::string& topology) {
  const std::string key = KeyFor(node);
  ASSIGN_OR_RETURN(std::string staged, store_->Stage(key));
  const std::string state = TemplateStore::StatePath(staged);
  absl::Status s = hv_->SaveDomain(node.domain.name, state);
  // The saved XML names the sandbox that booted it (its tag holds the spec: candidate,
  // password hash). Restores replace it anyway; the template keeps none of it.
  if (s.ok()) s = ScrubSavedXml(state);
  // The volumes as they were at the save: the template's, and the node's from now on.
  for (size_t i = 0; s.ok() && i < node.volumes.size(); ++i) {
    const std::string frozen = TemplateStore::VolumePath(staged, static_cast<int>(i));
    if (FILE* f = fopen(frozen.c_str(), "w"); f != nullptr) fclose(f);
    s = CopyFileContents(node.domain.disks[i].path, frozen);
  }
  if (!s.ok()) {
    store_->Discard(staged);
    return s;
  }
  // The node goes on from the state first, so that a slow commit does not hold it.
  absl::Status ran = RunFrom(node, state);
  v1::NodeTemplate meta;
  meta.set_key(key);
  meta.set_topology(topology);
  meta.set_node(node.node);
  meta.add_images(node.image);
  meta.set_domain_type(DomainTypeName(node.domain.type));
  meta.set_hypervisor(hypervisor_);
  absl::Status committed = store_->Commit(staged, meta, static_cast<int>(node.volumes.size()));
  if (!committed.ok() && !absl::IsAlreadyExists(committed)) {
    spdlog::warn("templates: node {}: {}", node.domain.name, std::string(committed.message()));
  } else if (committed.ok()) {
    spdlog::info("templates: saved node {} of {} as template {}", node.node, topology, key);
  }
  RETURN_IF_ERROR(ran);
  return Stamp(node, key);
}

}  // namespace labrack::worker
