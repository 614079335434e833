// Builds nodes from templates (TemplateStore): a node whose template this host holds is
// restored from it, its volumes copies of the template's frozen ones; a node without one
// is booted as usual and, once it printed its marker, saved as the template and restored
// at once. The template's memory state is libvirt's save image, whose XML is rewritten to
// the new domain's definition (save_image.h), so that one state restores under any name.
// Thread-safe.
#ifndef LABRACK_WORKER_SANDBOX_NODE_TEMPLATES_H_
#define LABRACK_WORKER_SANDBOX_NODE_TEMPLATES_H_

#include <atomic>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "worker/hypervisor/hypervisor.h"
#include "worker/sandbox/sandbox_plan.h"
#include "worker/templates/template_store.h"

namespace labrack::worker {

// A file beside a node's serial log that says its guest was restored past its marker (its
// log, begun afresh by the restore, never shows it). Removed when the node is rebuilt.
std::string RestoredStampPath(const std::string& serial_log);

class NodeTemplates {
 public:
  using Clock = std::function<absl::Time()>;
  // How long a restored guest's agent may take to take its identity.
  static constexpr absl::Duration kIdentityTimeout = absl::Seconds(15);

  // `hypervisor_version`: Hypervisor::GetVersion(), part of every key. `clock`: the time
  // restored guests are given.
  NodeTemplates(Hypervisor* hv, TemplateStore* store, std::string hypervisor_version,
                Clock clock = absl::Now, absl::Duration identity_timeout = kIdentityTimeout)
      : hv_(hv), store_(store), hypervisor_(std::move(hypervisor_version)),
        clock_(std::move(clock)), identity_timeout_(identity_timeout) {}

  // The key of `node`'s template: a hash of everything of its plan a memory state depends
  // on (machine, vCPUs, memory, kernel, initrd and command line, each volume's size and
  // backing chain, each NIC's MAC) and of the hypervisor's version, and of nothing that
  // names the sandbox (names, paths, networks, tags).
  std::string KeyFor(const NodePlan& node) const;

  // Whether the host holds a template for `node` (which it can then restore).
  bool Has(const NodePlan& node) const { return node.templatable && store_->Contains(KeyFor(node)); }

  // Makes `node`'s volumes and domain from its template, runs it and gives it its identity
  // (guest_identity.h): NotFound, with
  // nothing made, when the host holds no template for it; any other error leaves what it
  // made for the caller to remove (and boot the node instead).
  absl::Status Restore(const NodePlan& node);

  // Saves the running `node`, which has printed its marker, as its template (unless one
  // appeared meanwhile), then runs it again from that state on its volumes, unchanged
  // since, and gives it its identity. On an error the node may be stopped.
  absl::Status Capture(const NodePlan& node, const std::string& topology);

  TemplateStore* store() const { return store_; }
  // Restores that failed and fell back to a boot (counted by the caller).
  void CountFallback() { ++fallbacks_; }
  uint64_t fallbacks() const { return fallbacks_; }

 private:
  // Runs `node`'s defined, stopped domain from the memory state `state` and gives it its
  // identity.
  absl::Status RunFrom(const NodePlan& node, const std::string& state);

  Hypervisor* const hv_;
  TemplateStore* const store_;
  const std::string hypervisor_;
  const Clock clock_;
  const absl::Duration identity_timeout_;
  std::atomic<uint64_t> fallbacks_{0};
};

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_SANDBOX_NODE_TEMPLATES_H_
