// A guarded change of one sandbox in the store: applied only while the sandbox is still in
// one of the phases, and at the generation, that the step making it started from, so a step
// that lost a race (to a reset, a destroy, a session's end) changes nothing. Thread-safe
// (the store is).
#ifndef LABRACK_CONTROLLER_CORE_SANDBOX_TRANSITION_H_
#define LABRACK_CONTROLLER_CORE_SANDBOX_TRANSITION_H_

#include <functional>
#include <initializer_list>
#include <string>

#include "absl/status/statusor.h"
#include "controller/store/store.h"

namespace labrack::controller {

// Writes `change` if the sandbox is still in one of `from` at `generation`;
// FailedPrecondition ("superseded") otherwise.
absl::StatusOr<v1::Sandbox> TransitionSandbox(Store& store, const std::string& sandbox_id,
                                              std::initializer_list<v1::SandboxPhase> from,
                                              uint64_t generation,
                                              const std::function<void(v1::Sandbox&)>& change);

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_CORE_SANDBOX_TRANSITION_H_
