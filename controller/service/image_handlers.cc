// LabController handlers for images: streamed import into the controller's image cache
// and list.
#include "common/grpc_util.h"
#include "controller/service/call_gate.h"
#include "controller/service/controller_service.h"
#include "worker/images/import_reactor.h"

namespace labrack::controller {

grpc::ServerReadReactor<v1::EnsureImageChunk>* ControllerService::ImportImage(
    grpc::CallbackServerContext* ctx, v1::Image* resp) {
  absl::StatusOr<Caller> caller = AdmitCall(*parts_.access, *ctx, "LabController/ImportImage", "");
  if (!caller.ok()) return new RefusedReader<v1::EnsureImageChunk>(caller.status());
  parts_.access->RecordStart(*caller, "LabController/ImportImage", "");
  return new worker::ImportReactor<v1::Image>(
      parts_.images, resp,
      [access = parts_.access, caller = *std::move(caller)](const absl::Status& status,
                                                            const v1::Image& image) {
        access->Record(caller, "LabController/ImportImage",
                       image.manifest().name() + ":" + image.manifest().version(), status);
      });
}

grpc::ServerUnaryReactor* ControllerService::ListImages(grpc::CallbackServerContext* ctx,
                                                        const v1::ListImagesRequest*,
                                                        v1::ListImagesResponse* resp) {
  return ServeUnary(*parts_.access, ctx, "LabController/ListImages", "", Run::kNow,
                    [this, resp](const Caller&, std::string&) -> absl::Status {
                      for (const v1::ImageManifest& m : parts_.images->List()) {
                        *resp->add_images()->mutable_manifest() = m;
                      }
                      return absl::OkStatus();
                    });
}

}  // namespace labrack::controller
