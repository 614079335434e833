#include "worker/hypervisor/libvirt_error.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"

namespace labrack::worker {
namespace {

void SilentErrorHandler(void*, virErrorPtr) {}

absl::StatusCode CodeFor(int code) {
  switch (code) {
    case VIR_ERR_NO_DOMAIN:
    case VIR_ERR_NO_NETWORK:
    case VIR_ERR_NO_STORAGE_POOL:
    case VIR_ERR_NO_STORAGE_VOL:
      return absl::StatusCode::kNotFound;
    case VIR_ERR_DOM_EXIST:
    case VIR_ERR_NETWORK_EXIST:
    case VIR_ERR_STORAGE_VOL_EXIST:
      return absl::StatusCode::kAlreadyExists;
    case VIR_ERR_OPERATION_INVALID:
      return absl::StatusCode::kFailedPrecondition;
    case VIR_ERR_XML_ERROR:
    case VIR_ERR_XML_DETAIL:
    case VIR_ERR_INVALID_ARG:
    case VIR_ERR_CONFIG_UNSUPPORTED:
      return absl::StatusCode::kInvalidArgument;
    case VIR_ERR_NO_CONNECT:
    case VIR_ERR_RPC:
    case VIR_ERR_AUTH_FAILED:
    case VIR_ERR_OPERATION_TIMEOUT:
    case VIR_ERR_AGENT_UNRESPONSIVE:
      return absl::StatusCode::kUnavailable;
    default:
      return absl::StatusCode::kInternal;
  }
}

}  // namespace

void InitLibvirtOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    virSetErrorFunc(nullptr, SilentErrorHandler);
    virEventRegisterDefaultImpl();
    std::thread([] {
      for (;;) virEventRunDefaultImpl();
    }).detach();
  });
}

absl::Status LastLibvirtError(absl::string_view what) {
  virErrorPtr err = virGetLastError();
  if (err == nullptr) return absl::InternalError(absl::StrCat(what, ": unknown libvirt error"));
  absl::Status status(CodeFor(err->code),
                      absl::StrCat(what, ": ", err->message ? err->message : "(no message)"));
  virResetLastError();
  return status;
}

}  // namespace labrack::worker
