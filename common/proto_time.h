// Conversions between absl::Time and google.protobuf.Timestamp, at microsecond precision
// (what the store keeps). Pure functions; thread-safe.
#ifndef LABRACK_COMMON_PROTO_TIME_H_
#define LABRACK_COMMON_PROTO_TIME_H_

#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/time_util.h>

#include "absl/time/time.h"

namespace labrack {

inline google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  return google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(time));
}

inline absl::Time ToTime(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixMicros(google::protobuf::util::TimeUtil::TimestampToMicroseconds(timestamp));
}

}  // namespace labrack

#endif  // LABRACK_COMMON_PROTO_TIME_H_
