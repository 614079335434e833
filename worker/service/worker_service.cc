#include "worker/service/worker_service.h"

#include <sys/statvfs.h>

#include <functional>
#include <thread>

#include "absl/strings/str_cat.h"

namespace labrack::worker {
namespace {

// Runs `work` on a thread of its own and finishes the call with its status.
grpc::ServerUnaryReactor* RunDetached(grpc::CallbackServerContext* ctx,
                                      std::function<absl::Status()> work) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  std::thread([reactor, work = std::move(work)] { reactor->Finish(ToGrpcStatus(work())); })
      .detach();
  return reactor;
}

grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* ctx, const absl::Status& s) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(s));
  return reactor;
}

uint64_t FreeDiskMib(const std::string& dir) {
  struct statvfs st;
  if (statvfs(dir.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize >> 20;
}

// Receives one image: the manifest first, then artifact chunks.
class EnsureImageReactor : public grpc::ServerReadReactor<v1::EnsureImageChunk> {
 public:
  EnsureImageReactor(ImageCache* images, v1::EnsureImageResponse* resp)
      : images_(images), resp_(resp) {
    StartRead(&chunk_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) return Complete();
    absl::Status s = Consume();
    if (!s.ok()) return Finish(ToGrpcStatus(s));
    StartRead(&chunk_);
  }
  void OnDone() override { delete this; }

 private:
  absl::Status Consume() {
    if (chunk_.has_manifest()) {
      if (import_) return absl::InvalidArgumentError("manifest: sent twice");
      absl::StatusOr<std::unique_ptr<ImageImport>> import = images_->BeginImport(chunk_.manifest());
      if (!import.ok()) return import.status();
      import_ = *std::move(import);
      *resp_->mutable_manifest() = chunk_.manifest();
      return absl::OkStatus();
    }
    if (!import_) return absl::InvalidArgumentError("manifest: must come before any chunk");
    return import_->Write(chunk_.chunk().file(), chunk_.chunk().data());
  }

  void Complete() {
    if (!import_) return Finish(ToGrpcStatus(absl::InvalidArgumentError("manifest: missing")));
    absl::StatusOr<bool> present = import_->Finish();
    if (present.ok()) resp_->set_already_present(*present);
    Finish(ToGrpcStatus(present.status()));
  }

  ImageCache* images_;
  v1::EnsureImageResponse* resp_;
  v1::EnsureImageChunk chunk_;
  std::unique_ptr<ImageImport> import_;
};

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

grpc::ServerUnaryReactor* WorkerService::GetInventory(grpc::CallbackServerContext* ctx,
                                                      const v1::GetInventoryRequest*,
                                                      v1::Inventory* resp) {
  return RunDetached(ctx, [this, resp]() -> absl::Status {
    absl::StatusOr<HostResources> host = hv_->GetHostResources();
    if (!host.ok()) return host.status();
    const WorkerConfig& config = sandboxes_->config();
    resp->set_host_id(config.host_id);
    resp->mutable_total()->set_vcpus(host->cpus);
    resp->mutable_total()->set_memory_mib(host->memory_mib);
    resp->mutable_total()->set_disk_mib(FreeDiskMib(config.state_dir));
    *resp->mutable_allocated() = sandboxes_->Allocated();
    for (const v1::ImageManifest& m : images_->List()) *resp->add_images() = m;
    for (const v1::SandboxStatus& s : sandboxes_->ListSandboxes()) *resp->add_sandboxes() = s;
    resp->set_domain_type(DomainTypeName(config.domain_type));
    return absl::OkStatus();
  });
}

grpc::ServerReadReactor<v1::EnsureImageChunk>* WorkerService::EnsureImage(
    grpc::CallbackServerContext*, v1::EnsureImageResponse* resp) {
  return new EnsureImageReactor(images_, resp);
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
  absl::StatusOr<v1::SandboxStatus> st = sandboxes_->GetSandbox(req->sandbox_id());
  if (st.ok()) *resp = *std::move(st);
  return FinishNow(ctx, st.status());
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
        sandboxes_->ResetSandbox(req->sandbox_id(), req->target_generation(), req->wait_ready());
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

}  // namespace labrack::worker
