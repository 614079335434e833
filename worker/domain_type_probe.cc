#include "worker/domain_type_probe.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "worker/host/host_command.h"
#include "worker/sandbox/serial_log.h"

extern char** environ;

namespace labrack::worker {
namespace {

// SeaBIOS prints this on its debug console once it has tried every boot device.
constexpr char kFirmwareDone[] = "No bootable device";

}  // namespace

ProbeResult ProbeKvm(const std::string& qemu_binary, absl::Duration timeout) {
  if (access("/dev/kvm", R_OK | W_OK) != 0) {
    return {DomainType::kQemu, "/dev/kvm is missing or not usable; using software emulation"};
  }
  char tmpl[] = "/tmp/labrack-kvm-probe-XXXXXX";
  int fd = mkstemp(tmpl);
  if (fd < 0) return {DomainType::kQemu, "cannot create a probe file; using software emulation"};
  close(fd);
  std::string log = tmpl;
  std::string chardev = absl::StrCat("file,id=dbg,path=", log);
  std::vector<std::string> args = {qemu_binary, "-accel", "kvm", "-machine", "pc", "-m", "32",
                                   "-nodefaults", "-display", "none", "-no-reboot",
                                   "-chardev", chardev, "-device",
                                   "isa-debugcon,iobase=0x402,chardev=dbg"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  DefaultSignalsForChild signals;
  int rc = posix_spawnp(&pid, qemu_binary.c_str(), &actions, signals.get(), argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    std::filesystem::remove(log);
    return {DomainType::kQemu, absl::StrCat("cannot run ", qemu_binary, "; using software emulation")};
  }
  absl::Time deadline = absl::Now() + timeout;
  bool done = false, exited = false;
  while (!done && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
    done = ReadSerialLogFrom(log, 0).find(kFirmwareDone) != std::string::npos;
    int status;
    if (!done && waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      break;
    }
  }
  if (!exited) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  std::filesystem::remove(log);
  if (done) return {DomainType::kKvm, "a KVM guest ran its firmware to the end"};
  if (exited) return {DomainType::kQemu, "qemu refused to start a KVM guest; using software emulation"};
  return {DomainType::kQemu,
          absl::StrCat("/dev/kvm exists but a KVM guest made no progress in ",
                       absl::FormatDuration(timeout), " (nested host?); using software emulation")};
}

absl::StatusOr<ProbeResult> ResolveDomainType(const std::string& flag) {
  if (flag == "kvm") return ProbeResult{DomainType::kKvm, "--domain-type kvm"};
  if (flag == "qemu") return ProbeResult{DomainType::kQemu, "--domain-type qemu"};
  if (flag == "auto") return ProbeKvm();
  return absl::InvalidArgumentError(
      absl::StrCat("--domain-type \"", flag, "\": must be auto, kvm or qemu"));
}

}  // namespace labrack::worker
