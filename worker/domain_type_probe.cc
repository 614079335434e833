#include "worker/domain_type_probe.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "worker/host/host_command.h"
#include "worker/sandbox/serial_log.h"

extern char** environ;

namespace labrack::worker {
namespace {

constexpr char kProbeNode[] = "kvm-probe";

// A temporary folder for the probe's serial log and qemu's standard error.
struct ProbeDir {
  ProbeDir() {
    char tmpl[] = "/tmp/labrack-kvm-probe-XXXXXX";
    if (mkdtemp(tmpl) != nullptr) path = tmpl;
  }
  ~ProbeDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
  std::string path;
};

// Starts qemu with its standard error in `stderr_file`; 0 when it cannot be run.
pid_t SpawnQemu(const std::string& qemu_binary, std::vector<std::string> args,
                const std::string& stderr_file) {
  args.insert(args.begin(), qemu_binary);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, stderr_file.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  DefaultSignalsForChild signals;
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, qemu_binary.c_str(), &actions, signals.get(), argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : 0;
}

// The first lines qemu printed, on one line, for the reason.
std::string Said(const std::string& stderr_file) {
  std::string text = ReadSerialLogFrom(stderr_file, 0).substr(0, 400);
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n', absl::SkipWhitespace());
  std::string said;
  for (absl::string_view line : lines) {
    absl::StrAppend(&said, said.empty() ? "" : " | ", absl::StripAsciiWhitespace(line));
  }
  return said.empty() ? "nothing on its standard error" : said;
}

std::string ExitText(int status) {
  if (WIFSIGNALED(status)) return absl::StrCat("died of signal ", WTERMSIG(status));
  return absl::StrCat("exited ", WEXITSTATUS(status));
}

}  // namespace

std::vector<std::string> KvmProbeArgs(const ProbeGuest& guest, const std::string& serial_log) {
  std::vector<std::string> args = {
      "-accel", "kvm", "-machine", "pc", "-cpu", "host,migratable=on",
      "-m", absl::StrCat(guest.memory_mib), "-smp", "1", "-nodefaults", "-no-user-config",
      "-display", "none", "-no-reboot", "-serial", absl::StrCat("file:", serial_log),
      "-kernel", guest.kernel,
      "-append", absl::StrCat(guest.cmdline, " labrack.node=", kProbeNode)};
  if (!guest.initrd.empty()) args.insert(args.end(), {"-initrd", guest.initrd});
  if (!guest.disk.empty()) {
    // snapshot=on: the guest's writes go to a temporary file qemu removes; the cached
    // image is only read.
    args.insert(args.end(), {"-drive", absl::StrCat("file=", guest.disk, ",format=",
                                                    guest.disk_format, ",if=virtio,snapshot=on")});
  }
  return args;
}

ProbeResult ProbeKvm(const ProbeGuest& guest, const std::string& qemu_binary,
                     absl::Duration timeout) {
  if (access("/dev/kvm", R_OK | W_OK) != 0) {
    return {DomainType::kQemu, "/dev/kvm is missing or not usable; using software emulation"};
  }
  ProbeDir dir;
  if (dir.path.empty()) {
    return {DomainType::kQemu, "cannot create a folder for the KVM probe; using software emulation"};
  }
  const std::string log = dir.path + "/serial.log", err = dir.path + "/stderr";
  pid_t pid = SpawnQemu(qemu_binary, KvmProbeArgs(guest, log), err);
  if (pid == 0) {
    return {DomainType::kQemu, absl::StrCat("cannot run ", qemu_binary, "; using software emulation")};
  }
  const absl::Time deadline = absl::Now() + timeout;
  bool ready = false, exited = false;
  int status = 0;
  while (!ready && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
    ready = SerialLogHasMarker(log, guest.marker, kProbeNode);
    if (!ready && waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      break;
    }
  }
  if (!exited) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  const std::string what = absl::StrCat("image ", guest.image, "'s kernel under KVM");
  if (ready) {
    return {DomainType::kKvm, absl::StrCat(what, " printed ", guest.marker)};
  }
  if (exited) {
    return {DomainType::kQemu, absl::StrCat("qemu ", ExitText(status), " booting ", what, ": ",
                                            Said(err), "; using software emulation")};
  }
  bool printed = !ReadSerialLogFrom(log, 0).empty();
  return {DomainType::kQemu,
          absl::StrCat(what, " did not print ", guest.marker, " within ",
                       absl::FormatDuration(timeout), " (",
                       printed ? "it printed something, then stopped" : "it printed nothing",
                       "; a nested host?); using software emulation")};
}

}  // namespace labrack::worker
