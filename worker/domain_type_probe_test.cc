// The KVM probe's decision, with stand-in qemu binaries that behave like a host where KVM
// works, a nested host where the firmware finishes and the kernel then hangs, a host where
// qemu aborts setting the CPU's registers, and a host without qemu; and the arguments it
// boots a real image with.
#include "worker/domain_type_probe.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_image.h"

namespace labrack::worker {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;

ProbeGuest TinyGuest() {
  ProbeGuest g;
  g.image = "tiny";
  g.kernel = "/images/vmlinuz";
  g.initrd = "/images/initrd.img";
  g.disk = "/images/disk.qcow2";
  g.disk_format = "qcow2";
  g.cmdline = "console=ttyS0 quiet";
  g.marker = "LABRACK-READY";
  return g;
}

class DomainTypeProbe : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access("/dev/kvm", R_OK | W_OK) != 0) GTEST_SKIP() << "no /dev/kvm on this host";
    dir_ = labrack::testing::MakeTempDir("kvm-probe");
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  // A stand-in qemu: finds the serial console's file and the kernel command line in its
  // arguments (as $log and $append) and runs `body`.
  std::string FakeQemu(const std::string& body) {
    std::string path = dir_ + "/qemu";
    std::ofstream(path) << "#!/bin/sh\n"
                        << "prev=\n"
                        << "for a in \"$@\"; do\n"
                        << "  case $a in file:*) log=${a#file:};; esac\n"
                        << "  [ \"$prev\" = -append ] && append=$a\n"
                        << "  prev=$a\n"
                        << "done\n"
                        << body << "\n";
    chmod(path.c_str(), 0755);
    return path;
  }
  std::string dir_;
};

TEST_F(DomainTypeProbe, ChoosesKvmWhenTheKernelPrintsItsMarker) {
  ProbeResult r = ProbeKvm(TinyGuest(), FakeQemu("echo 'SeaBIOS' > $log; sleep 0.3; "
                                                 "echo 'LABRACK-READY node=kvm-probe' >> $log; "
                                                 "exec sleep 30"));
  EXPECT_EQ(r.type, DomainType::kKvm) << r.reason;
  EXPECT_THAT(r.reason, HasSubstr("tiny"));
}

TEST_F(DomainTypeProbe, FallsBackWhenTheFirmwareFinishesAndTheKernelHangs) {
  ProbeResult r = ProbeKvm(TinyGuest(),
                           FakeQemu("printf 'SeaBIOS (version 1.16)\\nBooting from ROM...\\n' "
                                    "> $log; exec sleep 30"),
                           absl::Milliseconds(800));
  EXPECT_EQ(r.type, DomainType::kQemu);
  EXPECT_THAT(r.reason, AllOf(HasSubstr("did not print LABRACK-READY"),
                              HasSubstr("software emulation")));
}

TEST_F(DomainTypeProbe, FallsBackWhenQemuAbortsSettingTheCpusRegisters) {
  ProbeResult r = ProbeKvm(
      TinyGuest(),
      FakeQemu("echo 'qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69' >&2; "
               "echo 'kvm_buf_set_msrs: Assertion failed.' >&2; kill -ABRT $$"));
  EXPECT_EQ(r.type, DomainType::kQemu);
  EXPECT_THAT(r.reason, AllOf(HasSubstr("died of signal 6"), HasSubstr("failed to set MSR"),
                              HasSubstr("software emulation")));
}

TEST_F(DomainTypeProbe, WaitsForTheMarkerOfItsOwnNodeOnly) {
  // A marker for another node (or a line the kernel echoes) is not the guest being up.
  ProbeResult r = ProbeKvm(TinyGuest(),
                           FakeQemu("echo \"Command line: $append\" > $log; "
                                    "echo 'LABRACK-READY node=other' >> $log; exec sleep 30"),
                           absl::Milliseconds(800));
  EXPECT_EQ(r.type, DomainType::kQemu) << r.reason;
}

TEST_F(DomainTypeProbe, FallsBackWithoutQemu) {
  ProbeResult r = ProbeKvm(TinyGuest(), dir_ + "/no-such-qemu");
  EXPECT_EQ(r.type, DomainType::kQemu);
  EXPECT_THAT(r.reason, HasSubstr("cannot run"));
}

TEST(KvmProbeArgs, BootTheImageAsAKvmGuestRuns) {
  std::vector<std::string> args = KvmProbeArgs(TinyGuest(), "/tmp/serial.log");
  std::string line = absl::StrJoin(args, " ");
  // The CPU model and machine that real KVM guests get (domain_xml.cc: host-passthrough).
  EXPECT_THAT(line, HasSubstr("-accel kvm -machine pc -cpu host,migratable=on"));
  EXPECT_THAT(line, HasSubstr("-kernel /images/vmlinuz"));
  EXPECT_THAT(line, HasSubstr("-initrd /images/initrd.img"));
  EXPECT_THAT(line, HasSubstr("-serial file:/tmp/serial.log"));
  // The cached image is only read.
  EXPECT_THAT(args, Contains("file=/images/disk.qcow2,format=qcow2,if=virtio,snapshot=on"));
  EXPECT_THAT(args, Contains("console=ttyS0 quiet labrack.node=kvm-probe"));
}

}  // namespace
}  // namespace labrack::worker
