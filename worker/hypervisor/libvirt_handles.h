// Owning smart pointers for every libvirt handle, so that no code calls a free function by
// hand. Header only.
#ifndef LABRACK_WORKER_HYPERVISOR_LIBVIRT_HANDLES_H_
#define LABRACK_WORKER_HYPERVISOR_LIBVIRT_HANDLES_H_

#include <libvirt/libvirt.h>

#include <memory>

namespace labrack::worker {

struct ConnectCloser {
  void operator()(virConnectPtr p) const { virConnectClose(p); }
};
struct DomainFreer {
  void operator()(virDomainPtr p) const { virDomainFree(p); }
};
struct NetworkFreer {
  void operator()(virNetworkPtr p) const { virNetworkFree(p); }
};
struct PoolFreer {
  void operator()(virStoragePoolPtr p) const { virStoragePoolFree(p); }
};
struct VolumeFreer {
  void operator()(virStorageVolPtr p) const { virStorageVolFree(p); }
};
struct StreamFreer {
  void operator()(virStreamPtr p) const { virStreamFree(p); }
};
// Strings libvirt returns for the caller to free().
struct CharFreer {
  void operator()(char* p) const { free(p); }
};

using ConnectHandle = std::unique_ptr<virConnect, ConnectCloser>;
using DomainHandle = std::unique_ptr<virDomain, DomainFreer>;
using NetworkHandle = std::unique_ptr<virNetwork, NetworkFreer>;
using PoolHandle = std::unique_ptr<virStoragePool, PoolFreer>;
using VolumeHandle = std::unique_ptr<virStorageVol, VolumeFreer>;
using StreamHandle = std::unique_ptr<virStream, StreamFreer>;
using CString = std::unique_ptr<char, CharFreer>;

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_HYPERVISOR_LIBVIRT_HANDLES_H_
