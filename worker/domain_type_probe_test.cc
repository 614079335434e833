// The KVM probe's decision, with stand-in qemu binaries that behave like a working KVM
// host, a nested host whose guests hang, and a host without qemu.
#include "worker/domain_type_probe.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_image.h"
#include "tests/testing/status_matchers.h"

namespace labrack::worker {
namespace {

using ::testing::HasSubstr;

class DomainTypeProbe : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access("/dev/kvm", R_OK | W_OK) != 0) GTEST_SKIP() << "no /dev/kvm on this host";
    dir_ = labrack::testing::MakeTempDir("kvm-probe");
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  // A stand-in qemu: finds the debug console's file in its arguments and runs `body`.
  std::string FakeQemu(const std::string& body) {
    std::string path = dir_ + "/qemu";
    std::ofstream(path) << "#!/bin/sh\n"
                        << "for a in \"$@\"; do case $a in file,id=dbg,path=*) "
                           "log=${a#file,id=dbg,path=};; esac; done\n"
                        << body << "\n";
    chmod(path.c_str(), 0755);
    return path;
  }
  std::string dir_;
};

TEST_F(DomainTypeProbe, ChoosesKvmWhenTheFirmwareFinishes) {
  ProbeResult r = ProbeKvm(FakeQemu("echo 'No bootable device.' > $log; exec sleep 30"));
  EXPECT_EQ(r.type, DomainType::kKvm) << r.reason;
}

TEST_F(DomainTypeProbe, FallsBackWhenTheGuestHangs) {
  ProbeResult r = ProbeKvm(FakeQemu("echo 'Running option rom' > $log; exec sleep 30"),
                           absl::Milliseconds(800));
  EXPECT_EQ(r.type, DomainType::kQemu);
  EXPECT_THAT(r.reason, HasSubstr("made no progress"));
}

TEST_F(DomainTypeProbe, FallsBackWhenQemuRefusesKvm) {
  ProbeResult r = ProbeKvm(FakeQemu("echo 'failed to initialize kvm' >&2; exit 1"));
  EXPECT_EQ(r.type, DomainType::kQemu);
  EXPECT_THAT(r.reason, HasSubstr("refused"));
}

TEST_F(DomainTypeProbe, FallsBackWithoutQemu) {
  ProbeResult r = ProbeKvm(dir_ + "/no-such-qemu");
  EXPECT_EQ(r.type, DomainType::kQemu);
}

TEST(DomainTypeFlag, RefusesUnknownValues) {
  EXPECT_THAT(ResolveDomainType("xen"),
              labrack::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("--domain-type")));
  EXPECT_EQ(ResolveDomainType("qemu")->type, DomainType::kQemu);
  EXPECT_EQ(ResolveDomainType("kvm")->type, DomainType::kKvm);
}

}  // namespace
}  // namespace labrack::worker
