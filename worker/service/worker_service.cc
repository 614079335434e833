#include "worker/service/worker_service.h"

#include <functional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/grpc_util.h"
#include "worker/images/import_reactor.h"
#include "worker/service/inventory.h"

namespace labrack::worker {
grpc::ServerUnaryReactor* WorkerService::GetInventory(grpc::CallbackServerContext* ctx,
                                                      const v1::GetInventoryRequest*,
                                                      v1::Inventory* resp) {
  return RunDetached(ctx, [this, resp]() -> absl::Status {
    absl::StatusOr<v1::Inventory> inventory = BuildInventory(*hv_, *sandboxes_, *images_);
    if (inventory.ok()) *resp = *std::move(inventory);
    return inventory.status();
  });
}

grpc::ServerReadReactor<v1::EnsureImageChunk>* WorkerService::EnsureImage(
    grpc::CallbackServerContext*, v1::EnsureImageResponse* resp) {
  return new ImportReactor<v1::EnsureImageResponse>(images_, resp);
}

grpc::ServerUnaryReactor* WorkerService::CreateSandbox(grpc::CallbackServerContext* ctx,
                                                       const v1::WorkerCreateSandboxRequest* req,
                                                       v1::SandboxStatus* resp) {
  return RunDetached(ctx, [this, req, resp]() -> absl::Status {
    absl::StatusOr<v1::SandboxStatus> st = sandboxes_->CreateSandbox(req->spec(), req->wait_ready());
    if (st.ok()) *resp = *std::move(st);
    return st.status();
  });
}

grpc::ServerUnaryReactor* WorkerService::GetSandbox(grpc::CallbackServerContext* ctx,
                                                    const v1::WorkerGetSandboxRequest* req,
                                                    v1::SandboxStatus* resp) {
  // Looks at every domain through libvirt, which queues for seconds on a busy host: on a
  // callback thread it would stall every other call of this process (gRPC runs callbacks
  // on a small fixed set of threads: 2 on a 2-core host).
  return RunDetached(ctx, [this, req, resp]() -> absl::Status {
    absl::StatusOr<v1::SandboxStatus> st = sandboxes_->GetSandbox(req->sandbox_id());
    if (st.ok()) *resp = *std::move(st);
    return st.status();
  });
}

grpc::ServerUnaryReactor* WorkerService::ListSandboxes(grpc::CallbackServerContext* ctx,
                                                       const v1::WorkerListSandboxesRequest*,
                                                       v1::WorkerListSandboxesResponse* resp) {
  return RunDetached(ctx, [this, resp]() -> absl::Status {
    for (const v1::SandboxStatus& s : sandboxes_->ListSandboxes()) *resp->add_sandboxes() = s;
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* WorkerService::ResetSandbox(grpc::CallbackServerContext* ctx,
                                                      const v1::WorkerResetSandboxRequest* req,
                                                      v1::SandboxStatus* resp) {
  return RunDetached(ctx, [this, req, resp]() -> absl::Status {
    absl::StatusOr<v1::SandboxStatus> st =
        sandboxes_->ResetSandbox(req->sandbox_id(), req->target_generation(), req->wait_ready(),
                                 {req->nodes().begin(), req->nodes().end()});
    if (st.ok()) *resp = *std::move(st);
    return st.status();
  });
}

grpc::ServerUnaryReactor* WorkerService::DestroySandbox(grpc::CallbackServerContext* ctx,
                                                        const v1::WorkerDestroySandboxRequest* req,
                                                        v1::WorkerDestroySandboxResponse* resp) {
  return RunDetached(ctx, [this, req, resp]() -> absl::Status {
    absl::StatusOr<bool> existed = sandboxes_->DestroySandbox(req->sandbox_id());
    if (existed.ok()) resp->set_existed(*existed);
    return existed.status();
  });
}

grpc::ServerUnaryReactor* WorkerService::FreezeSandbox(grpc::CallbackServerContext* ctx,
                                                       const v1::WorkerFreezeSandboxRequest* req,
                                                       v1::SandboxStatus* resp) {
  return RunDetached(ctx, [this, req, resp]() -> absl::Status {
    absl::StatusOr<v1::SandboxStatus> st = sandboxes_->FreezeSandbox(req->sandbox_id());
    if (st.ok()) *resp = *std::move(st);
    return st.status();
  });
}

grpc::ServerUnaryReactor* WorkerService::ListEvidence(grpc::CallbackServerContext* ctx,
                                                      const v1::WorkerListEvidenceRequest* req,
                                                      v1::WorkerListEvidenceResponse* resp) {
  return RunDetached(ctx, [this, req, resp]() -> absl::Status {
    absl::StatusOr<std::vector<v1::EvidenceFile>> files =
        sandboxes_->ListEvidence(req->sandbox_id());
    if (!files.ok()) return files.status();
    for (v1::EvidenceFile& f : *files) *resp->add_files() = std::move(f);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* WorkerService::ReadEvidence(grpc::CallbackServerContext* ctx,
                                                      const v1::WorkerReadEvidenceRequest* req,
                                                      v1::WorkerReadEvidenceResponse* resp) {
  // Reads up to a MiB from disk: off the callback threads like the libvirt calls.
  return RunDetached(ctx, [this, req, resp]() -> absl::Status {
    absl::StatusOr<std::string> data =
        sandboxes_->ReadEvidence(req->sandbox_id(), req->name(), req->offset(), req->max_bytes());
    if (data.ok()) *resp->mutable_data() = *std::move(data);
    return data.status();
  });
}

grpc::ServerUnaryReactor* WorkerService::CaptureSandbox(grpc::CallbackServerContext* ctx,
                                                        const v1::WorkerCaptureSandboxRequest* req,
                                                        v1::WorkerCaptureSandboxResponse* resp) {
  // Pauses guests, copies and hashes disks: seconds, off the callback threads.
  return RunDetached(ctx, [this, req, resp]() -> absl::Status {
    absl::StatusOr<std::vector<v1::ImageManifest>> images =
        sandboxes_->CaptureSandbox(req->sandbox_id(), req->generation(), req->image_prefix());
    if (!images.ok()) return images.status();
    for (v1::ImageManifest& m : *images) *resp->add_images() = std::move(m);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* WorkerService::ReadImageBlob(grpc::CallbackServerContext* ctx,
                                                       const v1::WorkerReadImageBlobRequest* req,
                                                       v1::WorkerReadImageBlobResponse* resp) {
  // Reads up to a MiB from disk: off the callback threads.
  return RunDetached(ctx, [this, req, resp]() -> absl::Status {
    absl::StatusOr<std::string> data = images_->ReadBlob(req->sha256(), req->offset(), req->max_bytes());
    if (data.ok()) *resp->mutable_data() = *std::move(data);
    return data.status();
  });
}

grpc::ServerBidiReactor<v1::ConsoleInput, v1::ConsoleOutput>* WorkerService::AttachConsole(
    grpc::CallbackServerContext*) {
  return NewConsoleReactor(sandboxes_, hv_, &consoles_);
}

}  // namespace labrack::worker
