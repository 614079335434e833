// Ctrl-C as a request to stop following (`session get --watch`) rather than the end of the
// process: while an InterruptFlag lives, SIGINT only sets it. One at a time per process;
// requested() may be called from any thread.
#ifndef LABRACK_CLI_INTERRUPT_H_
#define LABRACK_CLI_INTERRUPT_H_

#include <signal.h>

namespace labrack::cli {

class InterruptFlag {
 public:
  // Installs the SIGINT handler; the former one is restored by the destructor.
  InterruptFlag();
  ~InterruptFlag();
  InterruptFlag(const InterruptFlag&) = delete;
  InterruptFlag& operator=(const InterruptFlag&) = delete;

  // True once SIGINT arrived while this flag lived.
  bool requested() const;

 private:
  struct sigaction former_;
};

}  // namespace labrack::cli

#endif  // LABRACK_CLI_INTERRUPT_H_
