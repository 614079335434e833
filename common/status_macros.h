// RETURN_IF_ERROR and ASSIGN_OR_RETURN for absl::Status / absl::StatusOr: Abseil 20220623
// has no macros of its own. Header only; no state.
#ifndef LABRACK_COMMON_STATUS_MACROS_H_
#define LABRACK_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define LABRACK_STATUS_CONCAT_INNER_(a, b) a##b
#define LABRACK_STATUS_CONCAT_(a, b) LABRACK_STATUS_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::absl::Status labrack_status_ = (expr);           \
    if (!labrack_status_.ok()) return labrack_status_; \
  } while (0)

#define ASSIGN_OR_RETURN(lhs, expr) \
  LABRACK_ASSIGN_OR_RETURN_IMPL_(   \
      LABRACK_STATUS_CONCAT_(labrack_statusor_, __LINE__), lhs, expr)

#define LABRACK_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                   \
  if (!statusor.ok()) return statusor.status();             \
  lhs = std::move(statusor).value()

#endif  // LABRACK_COMMON_STATUS_MACROS_H_
