// One line of progress on stderr: redrawn in place on a terminal, printed as a new line
// (only when it changed) otherwise, so that logs of scripted runs stay readable.
// Not thread-safe: one owner thread.
#ifndef LABRACK_CLI_PROGRESS_LINE_H_
#define LABRACK_CLI_PROGRESS_LINE_H_

#include <ostream>
#include <string>

namespace labrack::cli {

class ProgressLine {
 public:
  // `quiet`: show nothing (e.g. image import progress when stderr is not a terminal).
  ProgressLine(std::ostream& err, bool is_tty, bool quiet = false)
      : err_(err), tty_(is_tty), quiet_(quiet) {}
  // Ends a redrawn line, so that later output starts on a line of its own.
  ~ProgressLine() { Done(); }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  void Show(const std::string& line);
  // Moves past the current line; the next Show starts a new one.
  void Done();

 private:
  std::ostream& err_;
  const bool tty_;
  const bool quiet_;
  std::string last_;
  bool open_ = false;  // a redrawn line is on the screen without its newline
};

}  // namespace labrack::cli

#endif  // LABRACK_CLI_PROGRESS_LINE_H_
