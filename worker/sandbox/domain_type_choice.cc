#include "worker/sandbox/domain_type_choice.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace labrack::worker {

std::optional<ProbeGuest> ProbeGuestFor(const CachedImage& image) {
  if (image.kernel_path.empty()) return std::nullopt;
  ProbeGuest g;
  g.image = image.manifest.name();
  g.kernel = image.kernel_path;
  g.initrd = image.initrd_path;
  g.disk = image.disk_path;
  g.disk_format = image.disk_format;
  g.cmdline = image.manifest.cmdline();
  g.marker = image.manifest.readiness().serial_marker();
  if (g.marker.empty()) g.marker = "LABRACK-READY";
  if (image.manifest.default_memory_mib() > 0) g.memory_mib = image.manifest.default_memory_mib();
  return g;
}

bool PointsAtKvm(const absl::Status& status) {
  return !status.ok() && absl::StrContains(absl::AsciiStrToLower(status.message()), "kvm");
}

absl::StatusOr<std::unique_ptr<DomainTypeChoice>> DomainTypeChoice::FromFlag(
    const std::string& flag, KvmProber prober) {
  if (flag == "kvm") return Fixed(DomainType::kKvm, "--domain-type kvm");
  if (flag == "qemu") return Fixed(DomainType::kQemu, "--domain-type qemu");
  if (flag != "auto") {
    return absl::InvalidArgumentError(
        absl::StrCat("--domain-type \"", flag, "\": must be auto, kvm or qemu"));
  }
  return std::unique_ptr<DomainTypeChoice>(new DomainTypeChoice(
      true, DomainType::kQemu,
      "auto: KVM not probed yet (the first build probes it with its image's kernel)",
      std::move(prober)));
}

std::unique_ptr<DomainTypeChoice> DomainTypeChoice::Fixed(DomainType type, std::string reason) {
  return std::unique_ptr<DomainTypeChoice>(
      new DomainTypeChoice(false, type, std::move(reason), nullptr));
}

DomainTypeChoice::DomainTypeChoice(bool automatic, DomainType type, std::string reason,
                                   KvmProber prober)
    : automatic_(automatic), prober_(std::move(prober)), type_(type), reason_(std::move(reason)) {}

DomainType DomainTypeChoice::type() const {
  absl::MutexLock lock(&mu_);
  return type_;
}

std::string DomainTypeChoice::reason() const {
  absl::MutexLock lock(&mu_);
  return reason_;
}

void DomainTypeChoice::EnsureProbed(const std::optional<ProbeGuest>& guest) {
  if (!automatic_ || !guest.has_value()) return;
  absl::MutexLock probing(&probe_mu_);
  {
    absl::MutexLock lock(&mu_);
    if (probed_) return;
  }
  spdlog::info("probing KVM with image {}'s kernel", guest->image);
  ProbeResult r = prober_(*guest);
  spdlog::info("domain type {}: {}", DomainTypeName(r.type), r.reason);
  absl::MutexLock lock(&mu_);
  probed_ = true;
  type_ = r.type;
  reason_ = std::move(r.reason);
}

bool DomainTypeChoice::LeaveKvm(absl::string_view why) {
  if (!automatic_) return false;
  // qemu's own words can run to many lines: the first few hundred characters, on one line.
  std::string said(why.substr(0, 300));
  for (char& c : said) c = c == '\n' ? ' ' : c;
  absl::MutexLock lock(&mu_);
  if (type_ != DomainType::kKvm) return false;
  type_ = DomainType::kQemu;
  probed_ = true;
  reason_ = absl::StrCat("left KVM for software emulation: a KVM guest failed to start (", said,
                         ")");
  spdlog::warn("domain type qemu: {}", reason_);
  return true;
}

}  // namespace labrack::worker
