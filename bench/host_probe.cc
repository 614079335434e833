#include "bench/host_probe.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "worker/hypervisor/libvirt_error.h"

namespace labrack::bench {
namespace fs = std::filesystem;
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

double Ticks() { return static_cast<double>(sysconf(_SC_CLK_TCK)); }

// The qemu domain name in a command line: "-name guest=<name>,debug-threads=on".
std::string GuestName(const std::string& cmdline) {
  for (absl::string_view arg : absl::StrSplit(cmdline, '\0')) {
    if (!absl::ConsumePrefix(&arg, "guest=")) continue;
    return std::string(arg.substr(0, arg.find(',')));
  }
  return "";
}

}  // namespace

absl::StatusOr<std::unique_ptr<DomainStarts>> DomainStarts::Connect(const std::string& uri) {
  worker::InitLibvirtOnce();  // also runs libvirt's event loop, which delivers the events
  worker::ConnectHandle conn(virConnectOpen(uri.c_str()));
  if (!conn) {
    return absl::UnavailableError(worker::LastLibvirtError(absl::StrCat("connect to ", uri)).message());
  }
  std::unique_ptr<DomainStarts> starts(new DomainStarts(std::move(conn)));
  starts->callback_ = virConnectDomainEventRegisterAny(
      starts->conn_.get(), nullptr, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
      VIR_DOMAIN_EVENT_CALLBACK(&DomainStarts::OnLifecycle), starts.get(), nullptr);
  if (starts->callback_ < 0) {
    return absl::UnavailableError(worker::LastLibvirtError("subscribe to domain events").message());
  }
  return starts;
}

DomainStarts::~DomainStarts() {
  if (callback_ >= 0) virConnectDomainEventDeregisterAny(conn_.get(), callback_);
}

int DomainStarts::OnLifecycle(virConnectPtr, virDomainPtr dom, int event, int, void* opaque) {
  if (event != VIR_DOMAIN_EVENT_STARTED) return 0;
  auto* self = static_cast<DomainStarts*>(opaque);
  absl::MutexLock lock(&self->mu_);
  self->started_[virDomainGetName(dom)] = absl::Now();
  return 0;
}

std::optional<absl::Time> DomainStarts::Started(const std::string& name) {
  absl::MutexLock lock(&mu_);
  auto it = started_.find(name);
  if (it == started_.end()) return std::nullopt;
  return it->second;
}

double ProcessCpuSeconds(const std::string& pid) {
  std::string stat = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  size_t end = stat.rfind(')');  // the name may hold spaces; fields follow it
  if (end == std::string::npos) return 0;
  std::istringstream fields(stat.substr(end + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;  // state .. cmajflt
  double utime = 0, stime = 0;
  fields >> utime >> stime;
  return (utime + stime) / Ticks();
}

std::string FindProcess(const std::string& comm) {
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator("/proc", ec)) {
    std::string pid = e.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string name = ReadFile(absl::StrCat("/proc/", pid, "/comm"));
    if (!name.empty() && name.back() == '\n') name.pop_back();
    if (name == comm) return pid;
  }
  return "";
}

std::map<std::string, double> QemuCpuSeconds(const std::vector<std::string>& domains) {
  std::set<std::string> wanted(domains.begin(), domains.end());
  std::map<std::string, double> cpu;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator("/proc", ec)) {
    std::string pid = e.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string name = GuestName(ReadFile(absl::StrCat("/proc/", pid, "/cmdline")));
    if (wanted.contains(name)) cpu[name] = ProcessCpuSeconds(pid);
  }
  return cpu;
}

MachineCpu ReadMachineCpu() {
  std::ifstream in("/proc/stat");
  std::string label;
  double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  in >> label >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  MachineCpu cpu;
  cpu.busy = (user + nice + system + irq + softirq + steal) / Ticks();
  cpu.total = cpu.busy + (idle + iowait) / Ticks();
  return cpu;
}

}  // namespace labrack::bench
