// ReadQcow2Backing: the header fields of qemu's docs/interop/qcow2.txt that name a backing
// file, all big-endian.
#include "worker/images/qcow2_header.h"

#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace labrack::worker {
namespace {

constexpr uint32_t kBackingFormatExtension = 0xe2792aca;
constexpr uint32_t kEndOfExtensions = 0;
// qemu refuses longer backing file names; extensions end within the first cluster.
constexpr uint32_t kMaxBackingName = 1023;
constexpr uint64_t kMaxHeaderBytes = 2 << 20;

uint64_t BigEndian(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  return v;
}

// `size` bytes at `offset`, or DataLoss naming `what`.
absl::StatusOr<std::string> ReadAt(std::ifstream& in, const std::string& path, uint64_t offset,
                                   uint64_t size, const char* what) {
  std::string bytes(size, '\0');
  in.clear();
  in.seekg(static_cast<std::streamoff>(offset));
  if (!in.read(bytes.data(), static_cast<std::streamsize>(size))) {
    return absl::DataLossError(absl::StrCat(path, ": qcow2 ", what, " at byte ", offset,
                                            " lies past the end of the file"));
  }
  return bytes;
}

// The format named by the backing format extension, or "" when there is none.
absl::StatusOr<std::string> ReadBackingFormat(std::ifstream& in, const std::string& path,
                                              uint64_t offset, uint64_t end) {
  while (offset + 8 <= end) {
    absl::StatusOr<std::string> head = ReadAt(in, path, offset, 8, "header extension");
    if (!head.ok()) return head.status();
    auto* p = reinterpret_cast<const unsigned char*>(head->data());
    uint32_t type = BigEndian(p, 4);
    uint32_t length = BigEndian(p + 4, 4);
    if (type == kEndOfExtensions) return std::string();
    if (offset + 8 + length > end) break;
    if (type == kBackingFormatExtension) {
      return ReadAt(in, path, offset + 8, length, "backing format");
    }
    offset += 8 + (length + 7) / 8 * 8;
  }
  return absl::DataLossError(absl::StrCat(path, ": qcow2 header extensions do not end"));
}

}  // namespace

absl::StatusOr<Qcow2Backing> ReadQcow2Backing(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  unsigned char h[104] = {};
  in.read(reinterpret_cast<char*>(h), sizeof(h));
  if (in.gcount() < 72 || std::memcmp(h, "QFI\xfb", 4) != 0) {
    return absl::DataLossError(absl::StrCat(path, ": not a qcow2 file"));
  }
  uint32_t version = BigEndian(h + 4, 4);
  uint64_t name_offset = BigEndian(h + 8, 8);
  uint32_t name_size = BigEndian(h + 16, 4);
  Qcow2Backing out;
  if (name_offset == 0) return out;
  if (name_size == 0 || name_size > kMaxBackingName || (version != 2 && version != 3) ||
      (version == 3 && in.gcount() < 104)) {
    return absl::DataLossError(absl::StrCat(path, ": malformed qcow2 header (version ", version,
                                            ", backing name of ", name_size, " bytes)"));
  }
  absl::StatusOr<std::string> name = ReadAt(in, path, name_offset, name_size, "backing file name");
  if (!name.ok()) return name.status();
  out.file = *std::move(name);
  // Extensions follow the header and end before the backing file name (or the cluster).
  uint64_t start = version == 2 ? 72 : BigEndian(h + 100, 4);
  uint64_t end = name_offset > start ? name_offset : kMaxHeaderBytes;
  absl::StatusOr<std::string> format = ReadBackingFormat(in, path, start, end);
  if (!format.ok()) return format.status();
  out.format = *std::move(format);
  return out;
}

}  // namespace labrack::worker
