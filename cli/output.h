// How labrackctl prints results: aligned tables for people, the proto JSON mapping for
// scripts (-o json), and the words and units both kinds of output share.
// Pure functions and a plain value type; thread-compatible.
#ifndef LABRACK_CLI_OUTPUT_H_
#define LABRACK_CLI_OUTPUT_H_

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cli/command_context.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "labrack/v1/controller.pb.h"

namespace labrack::cli {

// Left-aligned columns under upper-case headers, three spaces apart. Empty cells print as
// "-"; control characters in cells print as spaces so that a row stays one line.
class Table {
 public:
  explicit Table(std::vector<std::string> headers);
  // Rows shorter than the headers are padded with empty cells.
  void AddRow(std::vector<std::string> cells);
  void Print(std::ostream& out) const;
  size_t rows() const { return rows_.size(); }

 private:
  std::vector<std::vector<std::string>> rows_;  // the headers first
};

// `message` in the proto JSON mapping, pretty printed, with fields at their default value
// included so that scripts find every field. Internal on a serializer failure.
absl::Status PrintJson(const google::protobuf::Message& message, std::ostream& out);

// PrintJson(message) with -o json, else `human(out)`.
absl::Status PrintResult(CommandContext& ctx, const google::protobuf::Message& message,
                         const std::function<void(std::ostream&)>& human);

// Enum values without their type prefix: "READY", "BOOTING", "HEALTHY"; "-" for
// UNSPECIFIED.
std::string PhaseWord(v1::SandboxPhase phase);
std::string NodePhaseWord(v1::NodePhase phase);
std::string HealthWord(v1::HostHealth health);

// Time since `then` as "45s", "12m", "3h", "2d"; "-" when unset.
std::string FormatAge(const google::protobuf::Timestamp& then, absl::Time now);
// "2024-05-01 12:00:00 UTC (3m ago)"; "-" when unset.
std::string FormatTime(const google::protobuf::Timestamp& then, absl::Time now);
// FormatTime for times that may lie ahead: "2024-05-01 12:00:00 UTC (in 3h)" or
// "... (3m ago)"; "-" when unset.
std::string FormatTimeAround(const google::protobuf::Timestamp& when, absl::Time now);
// "512 MiB", "1.5 GiB".
std::string FormatMib(uint64_t mib);
// "900 B", "12.0 MiB".
std::string FormatBytes(uint64_t bytes);
// "2 vCPU, 384 MiB memory, 4096 MiB disk"
std::string FormatCapacity(const v1::Capacity& capacity);
// The first 8 characters of an id, as sandboxes are named in progress lines.
std::string ShortId(absl::string_view id);

// One "Name:        value" line of a details view, the value in column `width` (after
// `indent`); "-" for an empty value.
inline constexpr size_t kFieldWidth = 13;
void PrintField(std::ostream& out, const std::string& name, const std::string& value,
                size_t width = kFieldWidth, const std::string& indent = "");

}  // namespace labrack::cli

#endif  // LABRACK_CLI_OUTPUT_H_
