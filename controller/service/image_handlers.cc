// LabController handlers for images: streamed import into the controller's image cache
// and list.
#include "common/grpc_util.h"
#include "controller/service/controller_service.h"
#include "worker/images/import_reactor.h"

namespace labrack::controller {

grpc::ServerReadReactor<v1::EnsureImageChunk>* ControllerService::ImportImage(
    grpc::CallbackServerContext*, v1::Image* resp) {
  return new worker::ImportReactor<v1::Image>(parts_.images, resp);
}

grpc::ServerUnaryReactor* ControllerService::ListImages(grpc::CallbackServerContext* ctx,
                                                        const v1::ListImagesRequest*,
                                                        v1::ListImagesResponse* resp) {
  for (const v1::ImageManifest& m : parts_.images->List()) {
    *resp->add_images()->mutable_manifest() = m;
  }
  return FinishNow(ctx, absl::OkStatus());
}

}  // namespace labrack::controller
