#include "worker/hypervisor/save_image.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace labrack::worker {
namespace {

constexpr char kMagic[] = "LibvirtQemudSave";  // 16 bytes, no NUL in the file
constexpr size_t kMagicLen = 16;
constexpr int kWords = 19;
constexpr size_t kFixedLen = kMagicLen + kWords * 4;
constexpr uint32_t kVersion = 2;
// libvirt's own XML region is about 64 KiB; anything far past that is not a header.
constexpr uint32_t kMaxDataLen = 16u << 20;

enum Word { kVersionWord, kDataLen, kWasRunning, kCompressed, kCookieOffset };

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

absl::Status ErrnoError(const std::string& what) {
  int e = errno;
  std::string text = absl::StrCat(what, ": ", strerror(e));
  return e == ENOENT ? absl::NotFoundError(text) : absl::InternalError(text);
}

absl::Status Refuse(const std::string& path, const std::string& why) {
  return absl::FailedPreconditionError(
      absl::StrCat(path, " is not a save image labrack can restore: ", why));
}

absl::Status ReadFully(int fd, void* buf, size_t len, uint64_t offset, const std::string& path) {
  char* p = static_cast<char*>(buf);
  while (len > 0) {
    ssize_t n = pread(fd, p, len, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError(absl::StrCat("read ", path));
    if (n == 0) return Refuse(path, "it ends inside its header");
    p += n;
    len -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return absl::OkStatus();
}

absl::Status WriteFully(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError(absl::StrCat("write ", path));
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

uint32_t LoadLe32(const unsigned char* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

void StoreLe32(uint32_t v, unsigned char* p) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}

struct RawHeader {
  std::array<uint32_t, kWords> words;
  SaveImageHeader parsed;
};

absl::StatusOr<RawHeader> ReadRaw(int fd, const std::string& path) {
  std::array<unsigned char, kFixedLen> fixed;
  RETURN_IF_ERROR(ReadFully(fd, fixed.data(), fixed.size(), 0, path));
  if (std::memcmp(fixed.data(), kMagic, kMagicLen) != 0) {
    return Refuse(path, "its magic is not LibvirtQemudSave (a partial or foreign file)");
  }
  RawHeader raw;
  for (int i = 0; i < kWords; ++i) raw.words[i] = LoadLe32(fixed.data() + kMagicLen + 4 * i);
  const uint32_t data_len = raw.words[kDataLen];
  const uint32_t cookie_offset = raw.words[kCookieOffset];
  if (raw.words[kVersionWord] != kVersion) {
    return Refuse(path, absl::StrCat("its format version is ", raw.words[kVersionWord],
                                      ", only version ", kVersion, " is known"));
  }
  if (raw.words[kCompressed] != 0) return Refuse(path, "its memory state is compressed");
  if (data_len == 0 || data_len > kMaxDataLen) {
    return Refuse(path, absl::StrCat("its XML region is ", data_len, " bytes long"));
  }
  std::string data(data_len, '\0');
  RETURN_IF_ERROR(ReadFully(fd, data.data(), data.size(), kFixedLen, path));
  size_t xml_end = data.find('\0');
  if (xml_end == std::string::npos || xml_end == 0) {
    return Refuse(path, "its domain XML is missing or not NUL-terminated");
  }
  raw.parsed.version = raw.words[kVersionWord];
  raw.parsed.was_running = raw.words[kWasRunning] != 0;
  raw.parsed.domain_xml = data.substr(0, xml_end);
  if (cookie_offset != 0) {
    size_t cookie_end = cookie_offset < data_len ? data.find('\0', cookie_offset) : std::string::npos;
    if (cookie_offset <= xml_end || cookie_end == std::string::npos) {
      return Refuse(path, absl::StrCat("its cookie offset ", cookie_offset,
                                        " is outside its XML region"));
    }
    raw.parsed.cookie = data.substr(cookie_offset, cookie_end - cookie_offset);
  }
  raw.parsed.stream_offset = kFixedLen + data_len;
  return raw;
}

// The fixed header and XML region for `words` (data_len and cookie_offset are set here),
// the region at least `min_len` bytes long.
absl::StatusOr<std::string> SerializeHeader(std::array<uint32_t, kWords> words,
                                            const std::string& domain_xml,
                                            const std::string& cookie, uint32_t min_len) {
  if (domain_xml.empty() || domain_xml.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError("domain_xml: must be non-empty text without NUL bytes");
  }
  // The XML, its NUL, the cookie and its NUL; padded like libvirt's own region so that a
  // later rewrite in place has room.
  std::string data = absl::StrCat(domain_xml, std::string(1, '\0'));
  uint32_t cookie_offset = 0;
  if (!cookie.empty()) {
    cookie_offset = static_cast<uint32_t>(data.size());
    absl::StrAppend(&data, cookie, std::string(1, '\0'));
  }
  if (data.size() < min_len) data.resize(min_len, '\0');
  if (data.size() > kMaxDataLen) return absl::InvalidArgumentError("domain_xml: too long");
  words[kDataLen] = static_cast<uint32_t>(data.size());
  words[kCookieOffset] = cookie_offset;
  std::string head(kFixedLen, '\0');
  std::memcpy(head.data(), kMagic, kMagicLen);
  for (int i = 0; i < kWords; ++i) {
    StoreLe32(words[i], reinterpret_cast<unsigned char*>(head.data()) + kMagicLen + 4 * i);
  }
  return absl::StrCat(head, data);
}

}  // namespace

absl::StatusOr<SaveImageHeader> ReadSaveImageHeader(const std::string& path) {
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoError(absl::StrCat("open ", path));
  ASSIGN_OR_RETURN(RawHeader raw, ReadRaw(fd.get(), path));
  return std::move(raw.parsed);
}

absl::Status WriteSaveImageWithXml(const std::string& from, const std::string& domain_xml,
                                   const std::string& to) {
  Fd in(open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return ErrnoError(absl::StrCat("open ", from));
  ASSIGN_OR_RETURN(RawHeader raw, ReadRaw(in.get(), from));
  ASSIGN_OR_RETURN(std::string head, SerializeHeader(raw.words, domain_xml, raw.parsed.cookie,
                                                     raw.words[kDataLen]));
  unlink(to.c_str());
  Fd out(open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (out.get() < 0) return ErrnoError(absl::StrCat("create ", to));
  absl::Status s = WriteFully(out.get(), head, to);
  struct stat st;
  if (s.ok() && fstat(in.get(), &st) != 0) s = ErrnoError(absl::StrCat("stat ", from));
  loff_t in_off = static_cast<loff_t>(raw.parsed.stream_offset);
  while (s.ok() && in_off < st.st_size) {
    ssize_t n = copy_file_range(in.get(), &in_off, out.get(), nullptr,
                                static_cast<size_t>(st.st_size - in_off), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) s = ErrnoError(absl::StrCat("copy the memory state of ", from, " to ", to));
    if (n == 0) s = absl::DataLossError(absl::StrCat(from, " ended while it was copied"));
  }
  if (!s.ok()) unlink(to.c_str());
  return s;
}

absl::Status RewriteSaveImageXml(const std::string& path, const std::string& domain_xml) {
  Fd fd(open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoError(absl::StrCat("open ", path));
  ASSIGN_OR_RETURN(RawHeader raw, ReadRaw(fd.get(), path));
  const uint32_t old_len = raw.words[kDataLen];
  ASSIGN_OR_RETURN(std::string head, SerializeHeader(raw.words, domain_xml, raw.parsed.cookie, old_len));
  if (head.size() != kFixedLen + old_len) {
    return absl::InvalidArgumentError(absl::StrCat(
        "domain_xml: does not fit the ", old_len, "-byte XML region of ", path));
  }
  size_t done = 0;
  while (done < head.size()) {
    ssize_t n = pwrite(fd.get(), head.data() + done, head.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError(absl::StrCat("write ", path));
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status WriteSaveImage(const std::string& path, const SaveImageHeader& header,
                            const std::string& stream) {
  std::array<uint32_t, kWords> words{};
  words[kVersionWord] = kVersion;
  words[kWasRunning] = header.was_running ? 1 : 0;
  ASSIGN_OR_RETURN(std::string head,
                   SerializeHeader(words, header.domain_xml, header.cookie, 64 << 10));
  unlink(path.c_str());
  Fd out(open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (out.get() < 0) return ErrnoError(absl::StrCat("create ", path));
  absl::Status s = WriteFully(out.get(), absl::StrCat(head, stream), path);
  if (!s.ok()) unlink(path.c_str());
  return s;
}

}  // namespace labrack::worker
