#include "tests/testing/guest_shell.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "worker/sandbox/serial_log.h"

namespace labrack::testing {

absl::StatusOr<std::unique_ptr<GuestShell>> GuestShell::Open(worker::Hypervisor* hv,
                                                             const std::string& domain,
                                                             const std::string& serial_log) {
  absl::StatusOr<std::unique_ptr<worker::ConsoleStream>> console = hv->OpenConsole(domain);
  if (!console.ok()) return console.status();
  return std::unique_ptr<GuestShell>(new GuestShell(*std::move(console), serial_log));
}

absl::StatusOr<std::string> GuestShell::Run(const std::string& command, absl::Duration timeout) {
  ++sequence_;
  // The terminal echoes what we type; splitting each marker with an empty quoted string
  // keeps the echo from matching, so only the shell's own output ends the wait.
  std::string begin = absl::StrCat("@@B", sequence_, "@@");
  std::string end = absl::StrCat("@@E", sequence_, "@@");
  std::string typed = absl::StrCat("echo '@@B", sequence_, "''@@'; ", command, "; echo \"@@E",
                                   sequence_, "\"\"@@ exit=$?\"\n");
  std::error_code ec;
  size_t offset = std::filesystem::file_size(serial_log_, ec);
  if (ec) offset = 0;
  if (absl::Status s = console_->Write(typed); !s.ok()) return s;
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    std::string out = worker::ReadSerialLogFrom(serial_log_, offset);
    size_t b = out.find(begin + "\r\n");
    if (b == std::string::npos) b = out.find(begin + "\n");
    size_t e = out.find(end, b == std::string::npos ? 0 : b);
    // The end marker's line counts once it is whole: the log may hold "@@E1@@ exit" with
    // "=0" still on its way.
    size_t line_end = e == std::string::npos ? std::string::npos : out.find_first_of("\r\n", e);
    if (b != std::string::npos && line_end != std::string::npos) {
      size_t start = out.find('\n', b) + 1;
      std::string body = out.substr(start, e - start);
      std::string status = out.substr(e + end.size() + 1, line_end - e - end.size() - 1);
      return absl::StrCat(absl::StrReplaceAll(body, {{"\r", ""}}), status);
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::DeadlineExceededError(absl::StrCat("no answer within ", absl::FormatDuration(timeout),
                                                  " to: ", command));
}

}  // namespace labrack::testing
