// Table layout, JSON printing and formatting of units, times and enum words for
// labrackctl's output.
#include "cli/output.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/json_util.h"

namespace labrack::cli {
namespace {

std::string CleanCell(std::string cell) {
  if (cell.empty()) return "-";
  for (char& c : cell) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return cell;
}

// "SANDBOX_PHASE_READY" -> "READY"; "-" for the _UNSPECIFIED value or an unknown number.
std::string StripPrefix(const std::string& name, absl::string_view prefix) {
  if (name.empty() || absl::EndsWith(name, "_UNSPECIFIED")) return "-";
  return absl::StartsWith(name, prefix) ? name.substr(prefix.size()) : name;
}

absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

bool IsSet(const google::protobuf::Timestamp& ts) { return ts.seconds() != 0 || ts.nanos() != 0; }

}  // namespace

Table::Table(std::vector<std::string> headers) { rows_.push_back(std::move(headers)); }

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(std::max(cells.size(), rows_.front().size()));
  for (std::string& cell : cells) cell = CleanCell(std::move(cell));
  rows_.push_back(std::move(cells));
}

void Table::Print(std::ostream& out) const {
  std::vector<size_t> widths;
  for (const auto& row : rows_) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 3, ' ');
    }
    out << line << "\n";
  }
}

absl::Status PrintJson(const google::protobuf::Message& message, std::ostream& out) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat("printing JSON: ", status.ToString()));
  }
  out << json;
  if (!absl::EndsWith(json, "\n")) out << "\n";
  return absl::OkStatus();
}

absl::Status PrintResult(CommandContext& ctx, const google::protobuf::Message& message,
                         const std::function<void(std::ostream&)>& human) {
  if (ctx.global().json()) return PrintJson(message, ctx.io().out);
  human(ctx.io().out);
  return absl::OkStatus();
}

std::string PhaseWord(v1::SandboxPhase phase) {
  return StripPrefix(v1::SandboxPhase_Name(phase), "SANDBOX_PHASE_");
}

std::string NodePhaseWord(v1::NodePhase phase) {
  return StripPrefix(v1::NodePhase_Name(phase), "NODE_PHASE_");
}

std::string HealthWord(v1::HostHealth health) {
  return StripPrefix(v1::HostHealth_Name(health), "HOST_HEALTH_");
}

std::string FormatAge(const google::protobuf::Timestamp& then, absl::Time now) {
  if (!IsSet(then)) return "-";
  int64_t s = std::max<int64_t>(0, absl::ToInt64Seconds(now - ToTime(then)));
  if (s < 120) return absl::StrCat(s, "s");
  if (s < 2 * 3600) return absl::StrCat(s / 60, "m");
  if (s < 2 * 86400) return absl::StrCat(s / 3600, "h");
  return absl::StrCat(s / 86400, "d");
}

std::string FormatTime(const google::protobuf::Timestamp& then, absl::Time now) {
  if (!IsSet(then)) return "-";
  return absl::StrCat(absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", ToTime(then), absl::UTCTimeZone()),
                      " (", FormatAge(then, now), " ago)");
}

std::string FormatTimeAround(const google::protobuf::Timestamp& when, absl::Time now) {
  if (!IsSet(when) || ToTime(when) <= now) return FormatTime(when, now);
  google::protobuf::Timestamp now_ts;
  now_ts.set_seconds(absl::ToUnixSeconds(now));
  // FormatAge measures from its first argument to its second: here from now to `when`.
  return absl::StrCat(absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", ToTime(when), absl::UTCTimeZone()),
                      " (in ", FormatAge(now_ts, ToTime(when)), ")");
}

std::string FormatMib(uint64_t mib) {
  if (mib < 1024) return absl::StrCat(mib, " MiB");
  return absl::StrFormat("%.1f GiB", static_cast<double>(mib) / 1024);
}

std::string FormatBytes(uint64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  if (bytes < (1u << 20)) return absl::StrFormat("%.1f KiB", static_cast<double>(bytes) / 1024);
  if (bytes < (1u << 30))
    return absl::StrFormat("%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return absl::StrFormat("%.1f GiB", static_cast<double>(bytes) / (1 << 30));
}

std::string FormatCapacity(const v1::Capacity& capacity) {
  return absl::StrCat(capacity.vcpus(), " vCPU, ", capacity.memory_mib(), " MiB memory, ",
                      capacity.disk_mib(), " MiB disk");
}

std::string ShortId(absl::string_view id) { return std::string(id.substr(0, 8)); }

void PrintField(std::ostream& out, const std::string& name, const std::string& value,
                size_t width, const std::string& indent) {
  out << indent << name << std::string(name.size() < width ? width - name.size() : 1, ' ')
      << (value.empty() ? "-" : value) << "\n";
}

}  // namespace labrack::cli
