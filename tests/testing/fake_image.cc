#include "tests/testing/fake_image.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "gtest/gtest.h"

namespace labrack::testing {
namespace {

void AddArtifact(v1::ImageManifest& m, const std::string& dir, v1::ArtifactKind kind,
                 const std::string& file, const std::string& bytes, const std::string& format) {
  std::ofstream(absl::StrCat(dir, "/", file), std::ios::binary) << bytes;
  Sha256 sha;
  sha.Update(bytes);
  v1::ImageArtifact* a = m.add_artifacts();
  a->set_kind(kind);
  a->set_file(file);
  a->set_sha256(sha.HexDigest());
  a->set_size_bytes(bytes.size());
  a->set_format(format);
}

}  // namespace

v1::ImageManifest WriteFakeImage(const std::string& dir, const std::string& name,
                                 uint64_t virtual_bytes) {
  std::filesystem::create_directories(dir);
  v1::ImageManifest m;
  m.set_name(name);
  m.set_version("1");
  m.set_boot_mode(v1::BOOT_MODE_DIRECT_KERNEL);
  m.set_cmdline("console=ttyS0");
  m.mutable_readiness()->set_serial_marker("LABRACK-READY");
  m.set_default_vcpus(1);
  m.set_default_memory_mib(128);
  m.set_guest_agent("qemu-ga");  // as the real tiny image
  std::string header(512, '\0');
  header.replace(0, 4, "QFI\xfb");
  header[7] = 3;  // version
  for (int i = 0; i < 8; ++i) header[24 + i] = static_cast<char>(virtual_bytes >> (56 - 8 * i));
  AddArtifact(m, dir, v1::ARTIFACT_KIND_KERNEL, "vmlinuz", absl::StrCat("kernel of ", name), "");
  AddArtifact(m, dir, v1::ARTIFACT_KIND_INITRD, "initrd.img", absl::StrCat("initrd of ", name), "");
  AddArtifact(m, dir, v1::ARTIFACT_KIND_DISK, "disk.qcow2", header, "qcow2");
  return m;
}

std::string MakeTempDir(const std::string& prefix) {
  std::string base = ::testing::TempDir();
  if (!base.empty() && base.back() == '/') base.pop_back();
  std::string tmpl = absl::StrCat(base, "/", prefix, "-XXXXXX");
  return mkdtemp(tmpl.data());
}

}  // namespace labrack::testing
