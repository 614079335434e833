// Reflection v1 over a real loopback socket, as grpcurl or a generated client would use it.
#include "controller/service/reflection_v1.h"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "gtest/gtest.h"
#include "labrack/v1/controller.grpc.pb.h"

namespace labrack::controller {
namespace {

namespace refl = grpc::reflection::v1;
using ::testing::Contains;
using ::testing::ElementsAre;

class ReflectionV1Test : public ::testing::Test {
 protected:
  void SetUp() override {
    // Links labrack's generated code, and so its descriptors, into this test as into the
    // controller.
    ASSERT_NE(v1::ApplyTopologyRequest::descriptor(), nullptr);
    service_ = std::make_unique<ReflectionV1Service>(std::vector<std::string>{
        v1::LabController::service_full_name(), refl::ServerReflection::service_full_name()});
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(port, 0);
    stub_ = refl::ServerReflection::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
    ctx_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    stream_ = stub_->ServerReflectionInfo(&ctx_);
  }
  void TearDown() override {
    stream_->WritesDone();
    EXPECT_TRUE(stream_->Finish().ok());
    server_->Shutdown();
  }

  refl::ServerReflectionResponse Ask(const refl::ServerReflectionRequest& request) {
    refl::ServerReflectionResponse response;
    EXPECT_TRUE(stream_->Write(request));
    EXPECT_TRUE(stream_->Read(&response));
    return response;
  }

  // The names of the files in a file_descriptor_response, in its order.
  static std::vector<std::string> FileNames(const refl::ServerReflectionResponse& response) {
    std::vector<std::string> names;
    for (const std::string& bytes : response.file_descriptor_response().file_descriptor_proto()) {
      google::protobuf::FileDescriptorProto file;
      EXPECT_TRUE(file.ParseFromString(bytes));
      names.push_back(file.name());
    }
    return names;
  }

  std::unique_ptr<ReflectionV1Service> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<refl::ServerReflection::Stub> stub_;
  grpc::ClientContext ctx_;
  std::unique_ptr<
      grpc::ClientReaderWriter<refl::ServerReflectionRequest, refl::ServerReflectionResponse>>
      stream_;
};

TEST_F(ReflectionV1Test, ListsTheServicesTheServerOffers) {
  refl::ServerReflectionRequest request;
  request.set_list_services("");
  refl::ServerReflectionResponse response = Ask(request);
  std::vector<std::string> names;
  for (const auto& s : response.list_services_response().service()) names.push_back(s.name());
  EXPECT_THAT(names,
              ElementsAre("labrack.v1.LabController", "grpc.reflection.v1.ServerReflection"));
}

TEST_F(ReflectionV1Test, AnswersASymbolWithItsFileAndTheFilesItImports) {
  refl::ServerReflectionRequest request;
  request.set_file_containing_symbol("labrack.v1.LabController");
  refl::ServerReflectionResponse response = Ask(request);
  ASSERT_FALSE(response.has_error_response()) << response.error_response().error_message();
  std::vector<std::string> files = FileNames(response);
  ASSERT_FALSE(files.empty());
  EXPECT_EQ(files[0], "labrack/v1/controller.proto");
  EXPECT_THAT(files, Contains("labrack/v1/types.proto"));
  EXPECT_THAT(files, Contains("google/protobuf/timestamp.proto"));
  google::protobuf::FileDescriptorProto controller;
  ASSERT_TRUE(
      controller.ParseFromString(response.file_descriptor_response().file_descriptor_proto(0)));
  ASSERT_GT(controller.service_size(), 0);
  EXPECT_EQ(controller.service(0).name(), "LabController");
  EXPECT_EQ(response.original_request().file_containing_symbol(), "labrack.v1.LabController");
}

TEST_F(ReflectionV1Test, AnswersAMethodAndAFileByName) {
  refl::ServerReflectionRequest request;
  request.set_file_containing_symbol("labrack.v1.LabController.ApplyTopology");
  EXPECT_THAT(FileNames(Ask(request)), Contains("labrack/v1/controller.proto"));
  request.set_file_by_filename("labrack/v1/types.proto");
  std::vector<std::string> files = FileNames(Ask(request));
  ASSERT_FALSE(files.empty());
  EXPECT_EQ(files[0], "labrack/v1/types.proto");
}

TEST_F(ReflectionV1Test, UnknownNamesAreNotFoundAndTheStreamGoesOn) {
  refl::ServerReflectionRequest request;
  request.set_file_containing_symbol("labrack.v1.NoSuchThing");
  refl::ServerReflectionResponse response = Ask(request);
  EXPECT_EQ(response.error_response().error_code(), grpc::StatusCode::NOT_FOUND);
  request.mutable_file_containing_extension()->set_containing_type("labrack.v1.Sandbox");
  request.mutable_file_containing_extension()->set_extension_number(1000);
  EXPECT_EQ(Ask(request).error_response().error_code(), grpc::StatusCode::NOT_FOUND);
  request.set_all_extension_numbers_of_type("labrack.v1.Sandbox");
  response = Ask(request);
  EXPECT_EQ(response.all_extension_numbers_response().base_type_name(), "labrack.v1.Sandbox");
  EXPECT_EQ(response.all_extension_numbers_response().extension_number_size(), 0);
  EXPECT_EQ(Ask(refl::ServerReflectionRequest()).error_response().error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace labrack::controller
