#include "worker/hypervisor/bridge_isolation.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/names.h"
#include "worker/host/host_command.h"

namespace labrack::worker {
namespace {

absl::Status WriteSysctl(const std::string& path, const std::string& value) {
  std::ofstream out(path);
  out << value << "\n";
  out.flush();
  if (!out) {
    return absl::InternalError(absl::StrCat("seal bridge: cannot write ", value, " to ", path,
                                            ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

bool IsInterfaceName(const std::string& name) {
  if (name.empty() || name.size() > 15) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_') return false;
  }
  return true;
}

}  // namespace

absl::Status SealBridgeFromHost(const std::string& bridge, const std::string& proc_sys) {
  if (!IsInterfaceName(bridge)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bridge: '", bridge, "' is not an interface name (1 to 15 of [A-Za-z0-9_-])"));
  }
  const std::string v4 = absl::StrCat(proc_sys, "/net/ipv4/conf/", bridge, "/");
  if (absl::Status s = WriteSysctl(v4 + "arp_ignore", "8"); !s.ok()) return s;
  if (absl::Status s = WriteSysctl(v4 + "rp_filter", "1"); !s.ok()) return s;
  return WriteSysctl(absl::StrCat(proc_sys, "/net/ipv6/conf/", bridge, "/disable_ipv6"), "1");
}

absl::Status RemoveLeftoverBridge(const std::string& bridge) {
  if (!IsInterfaceName(bridge)) return absl::OkStatus();  // not one of ours to delete
  std::error_code ec;
  if (!std::filesystem::exists("/sys/class/net/" + bridge, ec)) return absl::OkStatus();
  return RunHostCommand({"ip", "link", "del", bridge}, absl::Seconds(10));
}

std::vector<std::string> ListLabrackBridges(const std::string& sys_class_net) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(sys_class_net, ec)) {
    const std::string name = e.path().filename().string();
    std::error_code is_ec;
    if (IsBridgeName(name) && std::filesystem::is_directory(e.path() / "bridge", is_ec)) {
      out.push_back(name);
    }
  }
  return out;
}

}  // namespace labrack::worker
