// A lock-free atomic is async-signal-safe; the handler does nothing else.
#include "cli/interrupt.h"

#include <atomic>

namespace labrack::cli {
namespace {

std::atomic<bool> interrupted{false};

void OnInterrupt(int) { interrupted.store(true); }

}  // namespace

InterruptFlag::InterruptFlag() {
  interrupted.store(false);
  struct sigaction action = {};
  action.sa_handler = OnInterrupt;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &former_);
}

InterruptFlag::~InterruptFlag() { sigaction(SIGINT, &former_, nullptr); }

bool InterruptFlag::requested() const { return interrupted.load(); }

}  // namespace labrack::cli
