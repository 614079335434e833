#include "controller/service/reflection_v1.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"

namespace labrack::controller {
namespace {

namespace pb = google::protobuf;
using grpc::reflection::v1::ServerReflectionRequest;
using grpc::reflection::v1::ServerReflectionResponse;
using Request = ServerReflectionRequest;

const pb::DescriptorPool& Pool() { return *pb::DescriptorPool::generated_pool(); }

void SetError(ServerReflectionResponse& out, grpc::StatusCode code, const std::string& message) {
  out.mutable_error_response()->set_error_code(code);
  out.mutable_error_response()->set_error_message(message);
}

// `file` and every file it imports, directly or not, each once.
void AddFileAndImports(const pb::FileDescriptor* file, std::set<std::string>& seen,
                       ServerReflectionResponse& out) {
  if (!seen.insert(file->name()).second) return;
  pb::FileDescriptorProto proto;
  file->CopyTo(&proto);
  proto.SerializeToString(out.mutable_file_descriptor_response()->add_file_descriptor_proto());
  for (int i = 0; i < file->dependency_count(); ++i)
    AddFileAndImports(file->dependency(i), seen, out);
}

void AnswerFile(const pb::FileDescriptor* file, const std::string& what,
                ServerReflectionResponse& out) {
  if (file == nullptr) return SetError(out, grpc::StatusCode::NOT_FOUND, what);
  std::set<std::string> seen;
  AddFileAndImports(file, seen, out);
}

void AnswerExtension(const grpc::reflection::v1::ExtensionRequest& req,
                     ServerReflectionResponse& out) {
  const pb::Descriptor* type = Pool().FindMessageTypeByName(req.containing_type());
  const pb::FieldDescriptor* ext =
      type == nullptr ? nullptr : Pool().FindExtensionByNumber(type, req.extension_number());
  AnswerFile(ext == nullptr ? nullptr : ext->file(),
             absl::StrCat("no extension ", req.extension_number(), " of ", req.containing_type()),
             out);
}

void AnswerExtensionNumbers(const std::string& type_name, ServerReflectionResponse& out) {
  const pb::Descriptor* type = Pool().FindMessageTypeByName(type_name);
  if (type == nullptr) {
    return SetError(out, grpc::StatusCode::NOT_FOUND, absl::StrCat("no message type ", type_name));
  }
  std::vector<const pb::FieldDescriptor*> extensions;
  Pool().FindAllExtensions(type, &extensions);
  auto* numbers = out.mutable_all_extension_numbers_response();
  numbers->set_base_type_name(type_name);
  for (const pb::FieldDescriptor* e : extensions) numbers->add_extension_number(e->number());
}

class Reactor : public grpc::ServerBidiReactor<ServerReflectionRequest, ServerReflectionResponse> {
 public:
  explicit Reactor(const ReflectionV1Service* service) : service_(service) { StartRead(&request_); }

  void OnReadDone(bool ok) override {
    if (!ok) return Finish(grpc::Status::OK);  // the client is done asking
    response_ = service_->Answer(request_);
    StartWrite(&response_);
  }
  void OnWriteDone(bool ok) override {
    if (!ok) return Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
    StartRead(&request_);
  }
  void OnDone() override { delete this; }

 private:
  const ReflectionV1Service* const service_;
  ServerReflectionRequest request_;
  ServerReflectionResponse response_;
};

}  // namespace

grpc::ServerBidiReactor<ServerReflectionRequest, ServerReflectionResponse>*
ReflectionV1Service::ServerReflectionInfo(grpc::CallbackServerContext*) {
  return new Reactor(this);
}

ServerReflectionResponse ReflectionV1Service::Answer(const ServerReflectionRequest& request) const {
  ServerReflectionResponse out;
  out.set_valid_host(request.host());
  *out.mutable_original_request() = request;
  switch (request.message_request_case()) {
    case Request::kListServices:
      for (const std::string& name : services_) {
        out.mutable_list_services_response()->add_service()->set_name(name);
      }
      break;
    case Request::kFileByFilename:
      AnswerFile(Pool().FindFileByName(request.file_by_filename()),
                 absl::StrCat("no file ", request.file_by_filename()), out);
      break;
    case Request::kFileContainingSymbol:
      AnswerFile(Pool().FindFileContainingSymbol(request.file_containing_symbol()),
                 absl::StrCat("no symbol ", request.file_containing_symbol()), out);
      break;
    case Request::kFileContainingExtension:
      AnswerExtension(request.file_containing_extension(), out);
      break;
    case Request::kAllExtensionNumbersOfType:
      AnswerExtensionNumbers(request.all_extension_numbers_of_type(), out);
      break;
    default:
      SetError(out, grpc::StatusCode::INVALID_ARGUMENT,
               "message_request: set one of list_services, file_by_filename, "
               "file_containing_symbol, file_containing_extension, all_extension_numbers_of_type");
  }
  return out;
}

}  // namespace labrack::controller
