// libvirt's save-image format (what virDomainSave writes), read and rewritten so that one
// saved guest can be restored as many domains. The format is libvirt's internal one:
// 16 bytes of magic "LibvirtQemudSave", 19 little-endian uint32 (version, data_len,
// was_running, compressed, cookie_offset, then 14 unused), data_len bytes holding the
// domain XML and the migration cookie (both NUL-terminated, zero padded), then qemu's
// migration stream to the end of the file. Only version 2, uncompressed, is accepted: any
// other file is refused rather than guessed at.
#ifndef LABRACK_WORKER_HYPERVISOR_SAVE_IMAGE_H_
#define LABRACK_WORKER_HYPERVISOR_SAVE_IMAGE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace labrack::worker {

struct SaveImageHeader {
  uint32_t version = 0;
  bool was_running = false;
  // The domain as it was saved, and libvirt's migration cookie (may be empty).
  std::string domain_xml;
  std::string cookie;
  // Where qemu's migration stream starts in the file.
  uint64_t stream_offset = 0;
};

// FailedPrecondition (naming the rule) for a file that is not a version-2, uncompressed
// libvirt save image, or whose header does not hold together; NotFound when it is missing.
absl::StatusOr<SaveImageHeader> ReadSaveImageHeader(const std::string& path);

// Writes `to`: the header of `from` with its domain XML replaced by `domain_xml` (the
// cookie and flags kept), then `from`'s migration stream, copied in the kernel. `to` is
// made with mode 0600 and replaced when it exists. Fails as ReadSaveImageHeader for a
// `from` it refuses.
absl::Status WriteSaveImageWithXml(const std::string& from, const std::string& domain_xml,
                                   const std::string& to);

// Replaces the domain XML of the save image at `path` in place (its memory state is not
// copied). InvalidArgument when `domain_xml` and the cookie do not fit the file's XML
// region; otherwise fails as ReadSaveImageHeader.
absl::Status RewriteSaveImageXml(const std::string& path, const std::string& domain_xml);

// Writes a whole save image: `header`'s XML and cookie (its was_running kept, version 2,
// uncompressed), then `stream` as the memory state. For fakes and tests: only qemu can
// write a memory state it will restore.
absl::Status WriteSaveImage(const std::string& path, const SaveImageHeader& header,
                            const std::string& stream);

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_HYPERVISOR_SAVE_IMAGE_H_
