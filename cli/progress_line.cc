// "\r" + erase-line redraws on a terminal; plain lines elsewhere.
#include "cli/progress_line.h"

namespace labrack::cli {

void ProgressLine::Show(const std::string& line) {
  if (quiet_ || line == last_) return;
  last_ = line;
  if (tty_) {
    err_ << "\r\x1b[K" << line << std::flush;
    open_ = true;
  } else {
    err_ << line << "\n" << std::flush;
  }
}

void ProgressLine::Done() {
  if (open_) err_ << "\n" << std::flush;
  open_ = false;
  last_.clear();
}

}  // namespace labrack::cli
