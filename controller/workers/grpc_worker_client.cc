#include "controller/workers/grpc_worker_client.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "controller/workers/grpc_console_relay.h"
#include "worker/client/image_upload.h"
#include "common/grpc_util.h"

namespace labrack::controller {
namespace {

// Runs one unary call that must end within `deadline`.
template <typename Rpc>
absl::Status CallWithin(absl::Duration deadline, Rpc rpc) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  return FromGrpc(rpc(&ctx));
}

// Images arrive in 1 MiB chunks; inventories list every image and sandbox.
constexpr int kMaxMessageBytes = 8 << 20;

}  // namespace

std::shared_ptr<grpc::Channel> NewWorkerChannel(const std::string& address,
                                                const WorkerClientOptions& options) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  int max_backoff = static_cast<int>(absl::ToInt64Milliseconds(options.max_reconnect_backoff));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, std::max(max_backoff, 100));
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, std::min(max_backoff, 1000));
  return grpc::CreateCustomChannel(
      address, options.credentials ? options.credentials : grpc::InsecureChannelCredentials(), args);
}

GrpcWorkerClient::GrpcWorkerClient(const std::string& address, WorkerClientOptions options)
    : GrpcWorkerClient(address, NewWorkerChannel(address, options), options) {}

GrpcWorkerClient::GrpcWorkerClient(std::string address, std::shared_ptr<grpc::Channel> channel,
                                   WorkerClientOptions options)
    : address_(std::move(address)),
      options_(options),
      channel_(std::move(channel)),
      stub_(v1::LabWorker::NewStub(channel_)) {}

absl::Status GrpcWorkerClient::Annotate(const absl::Status& status) const {
  if (!absl::IsUnavailable(status) && !absl::IsDeadlineExceeded(status)) return status;
  return absl::Status(status.code(), absl::StrCat("worker ", address_, ": ", status.message()));
}

absl::StatusOr<v1::Inventory> GrpcWorkerClient::GetInventory() {
  v1::Inventory resp;
  absl::Status status = CallWithin(options_.quick_deadline, [&](grpc::ClientContext* ctx) {
    return stub_->GetInventory(ctx, v1::GetInventoryRequest(), &resp);
  });
  if (!status.ok()) return Annotate(status);
  return resp;
}

absl::Status GrpcWorkerClient::EnsureImage(const v1::ImageManifest& manifest,
                                           const ArtifactPathFn& path_of) {
  return Annotate(
      worker::UploadImageArtifacts(*stub_, manifest, path_of, options_.image_deadline).status());
}

absl::StatusOr<v1::SandboxStatus> GrpcWorkerClient::CreateSandbox(const v1::SandboxSpec& spec,
                                                                  bool wait_ready,
                                                                  absl::Duration deadline) {
  v1::WorkerCreateSandboxRequest req;
  *req.mutable_spec() = spec;
  req.set_wait_ready(wait_ready);
  v1::SandboxStatus resp;
  absl::Status status = CallWithin(
      deadline, [&](grpc::ClientContext* ctx) { return stub_->CreateSandbox(ctx, req, &resp); });
  if (!status.ok()) return Annotate(status);
  return resp;
}

absl::StatusOr<v1::SandboxStatus> GrpcWorkerClient::GetSandbox(const std::string& sandbox_id) {
  v1::WorkerGetSandboxRequest req;
  req.set_sandbox_id(sandbox_id);
  v1::SandboxStatus resp;
  absl::Status status = CallWithin(options_.quick_deadline, [&](grpc::ClientContext* ctx) {
    return stub_->GetSandbox(ctx, req, &resp);
  });
  if (!status.ok()) return Annotate(status);
  return resp;
}

absl::StatusOr<v1::SandboxStatus> GrpcWorkerClient::ResetSandbox(const std::string& sandbox_id,
                                                                 uint64_t target_generation,
                                                                 bool wait_ready,
                                                                 absl::Duration deadline,
                                                                 const std::vector<std::string>& nodes) {
  v1::WorkerResetSandboxRequest req;
  req.set_sandbox_id(sandbox_id);
  req.set_target_generation(target_generation);
  req.set_wait_ready(wait_ready);
  for (const std::string& node : nodes) req.add_nodes(node);
  v1::SandboxStatus resp;
  absl::Status status = CallWithin(
      deadline, [&](grpc::ClientContext* ctx) { return stub_->ResetSandbox(ctx, req, &resp); });
  if (!status.ok()) return Annotate(status);
  return resp;
}

absl::StatusOr<bool> GrpcWorkerClient::DestroySandbox(const std::string& sandbox_id) {
  v1::WorkerDestroySandboxRequest req;
  req.set_sandbox_id(sandbox_id);
  v1::WorkerDestroySandboxResponse resp;
  absl::Status status = CallWithin(options_.destroy_deadline, [&](grpc::ClientContext* ctx) {
    return stub_->DestroySandbox(ctx, req, &resp);
  });
  if (!status.ok()) return Annotate(status);
  return resp.existed();
}

absl::StatusOr<v1::SandboxStatus> GrpcWorkerClient::FreezeSandbox(const std::string& sandbox_id) {
  v1::WorkerFreezeSandboxRequest req;
  req.set_sandbox_id(sandbox_id);
  v1::SandboxStatus resp;
  absl::Status status = CallWithin(options_.freeze_deadline, [&](grpc::ClientContext* ctx) {
    return stub_->FreezeSandbox(ctx, req, &resp);
  });
  if (!status.ok()) return Annotate(status);
  return resp;
}

absl::StatusOr<std::vector<v1::EvidenceFile>> GrpcWorkerClient::ListEvidence(
    const std::string& sandbox_id) {
  v1::WorkerListEvidenceRequest req;
  req.set_sandbox_id(sandbox_id);
  v1::WorkerListEvidenceResponse resp;
  absl::Status status = CallWithin(options_.list_evidence_deadline, [&](grpc::ClientContext* ctx) {
    return stub_->ListEvidence(ctx, req, &resp);
  });
  if (!status.ok()) return Annotate(status);
  return std::vector<v1::EvidenceFile>(resp.files().begin(), resp.files().end());
}

absl::StatusOr<std::string> GrpcWorkerClient::ReadEvidence(const std::string& sandbox_id,
                                                           const std::string& name,
                                                           uint64_t offset, uint32_t max_bytes) {
  v1::WorkerReadEvidenceRequest req;
  req.set_sandbox_id(sandbox_id);
  req.set_name(name);
  req.set_offset(offset);
  req.set_max_bytes(max_bytes);
  v1::WorkerReadEvidenceResponse resp;
  absl::Status status = CallWithin(options_.read_evidence_deadline, [&](grpc::ClientContext* ctx) {
    return stub_->ReadEvidence(ctx, req, &resp);
  });
  if (!status.ok()) return Annotate(status);
  return std::move(*resp.mutable_data());
}

absl::StatusOr<std::vector<v1::ImageManifest>> GrpcWorkerClient::CaptureSandbox(
    const std::string& sandbox_id, uint64_t generation, const std::string& image_prefix) {
  v1::WorkerCaptureSandboxRequest req;
  req.set_sandbox_id(sandbox_id);
  req.set_generation(generation);
  req.set_image_prefix(image_prefix);
  v1::WorkerCaptureSandboxResponse resp;
  absl::Status status = CallWithin(options_.capture_deadline, [&](grpc::ClientContext* ctx) {
    return stub_->CaptureSandbox(ctx, req, &resp);
  });
  if (!status.ok()) return Annotate(status);
  return std::vector<v1::ImageManifest>(resp.images().begin(), resp.images().end());
}

absl::StatusOr<std::string> GrpcWorkerClient::ReadImageBlob(const std::string& sha256,
                                                            uint64_t offset, uint32_t max_bytes) {
  v1::WorkerReadImageBlobRequest req;
  req.set_sha256(sha256);
  req.set_offset(offset);
  req.set_max_bytes(max_bytes);
  v1::WorkerReadImageBlobResponse resp;
  absl::Status status = CallWithin(options_.read_evidence_deadline, [&](grpc::ClientContext* ctx) {
    return stub_->ReadImageBlob(ctx, req, &resp);
  });
  if (!status.ok()) return Annotate(status);
  return std::move(*resp.mutable_data());
}

absl::StatusOr<std::unique_ptr<ConsoleRelay>> GrpcWorkerClient::AttachConsole(
    const std::string& sandbox_id, const std::string& node) {
  // The console's own deadline is long; connecting must not take that long.
  absl::Status connected = AwaitConnected(options_.quick_deadline);
  if (!connected.ok()) return connected;
  v1::ConsoleOpen open;
  open.set_sandbox_id(sandbox_id);
  open.set_node(node);
  return OpenGrpcConsoleRelay(*stub_, address_, open, options_.console_deadline);
}

absl::Status GrpcWorkerClient::AwaitConnected(absl::Duration deadline) {
  auto until = absl::ToChronoTime(absl::Now() + deadline);
  grpc_connectivity_state state = channel_->GetState(/*try_to_connect=*/true);
  while (state != GRPC_CHANNEL_READY) {
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE || state == GRPC_CHANNEL_SHUTDOWN) {
      return absl::UnavailableError(absl::StrCat("worker ", address_, ": cannot connect"));
    }
    if (!channel_->WaitForStateChange(state, until)) {
      return absl::UnavailableError(absl::StrCat("worker ", address_, ": no connection within ",
                                                 absl::FormatDuration(deadline)));
    }
    state = channel_->GetState(/*try_to_connect=*/true);
  }
  return absl::OkStatus();
}

std::shared_ptr<WorkerClient> GrpcWorkerDirectory::ForAddress(const std::string& address) {
  absl::MutexLock lock(&mu_);
  std::shared_ptr<WorkerClient>& client = clients_[address];
  if (!client) client = std::make_shared<GrpcWorkerClient>(address, options_);
  return client;
}

}  // namespace labrack::controller
