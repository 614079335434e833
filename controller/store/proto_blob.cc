// Proto <-> BLOB and time conversions shared by the table files. Thread-safe (no state).
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/time_util.h>

#include "absl/strings/str_cat.h"
#include "controller/store/tables.h"

namespace labrack::controller {

using ::google::protobuf::util::TimeUtil;

int64_t ToUnixMicros(const google::protobuf::Timestamp& timestamp) {
  return TimeUtil::TimestampToMicroseconds(timestamp);
}

std::string SerializeDeterministic(const google::protobuf::Message& message) {
  std::string bytes;
  {
    // The coded stream writes its last bytes when it goes away.
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return bytes;
}

absl::Status ParseBlob(const std::string& blob, google::protobuf::Message& message,
                       absl::string_view what) {
  if (!message.ParseFromString(blob)) {
    return absl::DataLossError(
        absl::StrCat(what, ": stored ", message.GetTypeName(), " does not parse"));
  }
  return absl::OkStatus();
}

}  // namespace labrack::controller
