#include "controller/reconciler/sandbox_driver.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "controller/core/sandbox_transition.h"
#include "controller/reconciler/background_call.h"
#include "spdlog/spdlog.h"

namespace labrack::controller {
namespace {

constexpr absl::Duration kProgressPoll = absl::Milliseconds(500);
// A build that ends FAILED on its host (e.g. the worker died half-way) is repaired this many
// times before the sandbox FAILS: when some of its nodes came up, only the others are
// replaced; otherwise it is torn down and built again.
constexpr int kMaxRebuilds = 1;

uint32_t ReadyNodes(const v1::SandboxStatus& status) {
  return std::count_if(status.nodes().begin(), status.nodes().end(),
                       [](const v1::NodeStatus& n) { return n.phase() == v1::NODE_PHASE_READY; });
}

v1::SandboxSpec SpecOf(const v1::Sandbox& sandbox, const v1::Topology& topology) {
  v1::SandboxSpec spec;
  spec.set_sandbox_id(sandbox.sandbox_id());
  spec.set_generation(sandbox.generation());
  *spec.mutable_topology() = topology;
  spec.set_session_id(sandbox.session_id());
  spec.set_candidate(sandbox.candidate());
  *spec.mutable_labels() = sandbox.labels();
  spec.set_console_password_hash(sandbox.console_password_hash());
  return spec;
}

}  // namespace

absl::StatusOr<v1::Sandbox> SandboxDriver::Transition(
    const std::string& sandbox_id, std::initializer_list<v1::SandboxPhase> from,
    uint64_t generation, const std::function<void(v1::Sandbox&)>& change) {
  return TransitionSandbox(*store_, sandbox_id, from, generation, change);
}

absl::Status SandboxDriver::Build(const std::string& sandbox_id) {
  ASSIGN_OR_RETURN(v1::Sandbox sandbox, store_->GetSandbox(sandbox_id));
  if (sandbox.phase() == v1::SANDBOX_PHASE_SCHEDULED) {
    ASSIGN_OR_RETURN(sandbox, Transition(sandbox_id, {v1::SANDBOX_PHASE_SCHEDULED},
                                         sandbox.generation(), [&](v1::Sandbox& s) {
                                           s.set_phase(v1::SANDBOX_PHASE_PROVISIONING);
                                           s.set_message(absl::StrCat("building on host ", s.host_id()));
                                         }));
  }
  if (sandbox.phase() != v1::SANDBOX_PHASE_PROVISIONING &&
      sandbox.phase() != v1::SANDBOX_PHASE_RESETTING) {
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(HostRecord host, store_->GetHost(sandbox.host_id()));
  std::shared_ptr<WorkerClient> client = workers_->ForAddress(host.host.address());
  ASSIGN_OR_RETURN(v1::Topology topology, store_->GetSandboxTopology(sandbox_id));
  absl::Status sent = images_->EnsureImages(host, topology, *client);
  if (!sent.ok()) {
    if (IsRetryable(sent)) return sent;
    return Fail(sandbox, absl::StrCat("sending images to host ", host.host.host_id(),
                                      " failed: ", sent.message()), client.get());
  }
  absl::StatusOr<v1::SandboxStatus> status = BuildOnHost(sandbox, client);
  if (status.ok()) return Finish(sandbox, *status, *client);
  if (absl::IsNotFound(status.status())) {
    // The host lost an image it had reported (e.g. its cache was wiped): send it again.
    images_->ForgetHost(host.host.host_id());
    return absl::UnavailableError(absl::StrCat("host ", host.host.host_id(), ": ", status.status().message()));
  }
  if (IsRetryable(status.status())) return status.status();
  return Fail(sandbox, absl::StrCat("host ", host.host.host_id(), " could not build it: ",
                                    status.status().message()), client.get());
}

// A RESETTING sandbox is reset on the host; if the host no longer has it (e.g. it was torn
// down for a rebuild), it is created afresh at the sandbox's generation instead.
absl::StatusOr<v1::SandboxStatus> SandboxDriver::BuildOnHost(const v1::Sandbox& sandbox,
                                                             std::shared_ptr<WorkerClient> client) {
  ASSIGN_OR_RETURN(v1::Topology topology, store_->GetSandboxTopology(sandbox.sandbox_id()));
  v1::SandboxSpec spec = SpecOf(sandbox, topology);
  absl::Duration deadline = config_->ready_timeout + absl::Seconds(60);
  if (sandbox.phase() == v1::SANDBOX_PHASE_RESETTING) {
    std::vector<std::string> nodes(sandbox.reset_nodes().begin(), sandbox.reset_nodes().end());
    absl::StatusOr<v1::SandboxStatus> reset = WaitWithProgress(sandbox, *client, [=] {
      return client->ResetSandbox(spec.sandbox_id(), spec.generation(), true, deadline, nodes);
    });
    if (!absl::IsNotFound(reset.status())) return reset;
  }
  return WaitWithProgress(sandbox, *client,
                          [=] { return client->CreateSandbox(spec, true, deadline); });
}

absl::StatusOr<v1::SandboxStatus> SandboxDriver::WaitWithProgress(
    const v1::Sandbox& sandbox, WorkerClient& client,
    std::function<absl::StatusOr<v1::SandboxStatus>()> call) {
  BackgroundCall<v1::SandboxStatus> pending(std::move(call));
  uint32_t last_ready = 0;
  while (!pending.WaitFor(kProgressPoll)) {
    if (stopping_()) return absl::CancelledError("the controller is stopping");
    absl::StatusOr<v1::Sandbox> now = store_->GetSandbox(sandbox.sandbox_id());
    if (now.ok() && (now->phase() != sandbox.phase() || now->generation() != sandbox.generation())) {
      return absl::CancelledError("superseded by a newer request");
    }
    absl::StatusOr<v1::SandboxStatus> seen = client.GetSandbox(sandbox.sandbox_id());
    if (seen.ok() && seen->generation() == sandbox.generation()) ReportProgress(sandbox, *seen, &last_ready);
  }
  return pending.result();
}

// Records the nodes' phases and appends a progress event, when more nodes are ready than
// at the last report.
void SandboxDriver::ReportProgress(const v1::Sandbox& sandbox, const v1::SandboxStatus& status,
                                   uint32_t* last_ready) {
  uint32_t ready = ReadyNodes(status);
  if (ready == *last_ready) return;
  absl::StatusOr<v1::Sandbox> updated =
      Transition(sandbox.sandbox_id(), {sandbox.phase()}, sandbox.generation(),
                 [&](v1::Sandbox& s) { *s.mutable_nodes() = status.nodes(); });
  if (!updated.ok()) return;
  *last_ready = ready;
  v1::Event e;
  e.set_kind(v1::EVENT_KIND_SANDBOX_PROGRESS);
  e.set_sandbox_id(sandbox.sandbox_id());
  e.set_host_id(sandbox.host_id());
  e.set_phase(sandbox.phase());
  e.set_generation(sandbox.generation());
  e.set_nodes_ready(ready);
  e.set_nodes_total(status.nodes_size());
  e.set_message(absl::StrCat(ready, " of ", status.nodes_size(), " nodes ready"));
  store_->AppendEvent(e).IgnoreError();
}

absl::Status SandboxDriver::Finish(const v1::Sandbox& sandbox, const v1::SandboxStatus& status,
                                   WorkerClient& client) {
  switch (status.phase()) {
    case v1::SANDBOX_PHASE_READY: {
      {
        absl::MutexLock lock(&mu_);
        retries_.erase(sandbox.sandbox_id());
      }
      return Transition(sandbox.sandbox_id(), {sandbox.phase()}, sandbox.generation(),
                        [&](v1::Sandbox& s) {
                          s.set_phase(v1::SANDBOX_PHASE_READY);
                          s.set_message("");
                          s.clear_reset_nodes();
                          *s.mutable_nodes() = status.nodes();
                        })
          .status();
    }
    case v1::SANDBOX_PHASE_FAILED: {
      // The host's answer may be the consequence of a newer step (a session's freeze pauses
      // the guests a build waits for): then its objects are not this step's to remove.
      absl::StatusOr<v1::Sandbox> now = store_->GetSandbox(sandbox.sandbox_id());
      if (!now.ok() || now->phase() != sandbox.phase() || now->generation() != sandbox.generation()) {
        return absl::CancelledError("superseded by a newer request");
      }
      bool retry = false;
      {
        absl::MutexLock lock(&mu_);
        retry = retries_[sandbox.sandbox_id()]++ < kMaxRebuilds;
      }
      if (!retry) return Fail(sandbox, status.message(), &client);
      std::vector<std::string> failed;
      for (const v1::NodeStatus& n : status.nodes()) {
        if (n.phase() != v1::NODE_PHASE_READY) failed.push_back(n.name());
      }
      if (!failed.empty() && failed.size() < static_cast<size_t>(status.nodes_size())) {
        return ReplaceNodes(sandbox, failed, status.message());
      }
      spdlog::warn("sandbox {} failed on host {} ({}); tearing it down to build it again",
                   sandbox.sandbox_id(), sandbox.host_id(), status.message());
      RETURN_IF_ERROR(client.DestroySandbox(sandbox.sandbox_id()).status());
      return absl::UnavailableError(absl::StrCat("rebuilding after: ", status.message()));
    }
    case v1::SANDBOX_PHASE_DESTROYING: {
      // A teardown on the host stopped half-way (e.g. the rebuild's destroy above failed),
      // while the store still wants this build: finish the teardown, then build again.
      absl::StatusOr<v1::Sandbox> now = store_->GetSandbox(sandbox.sandbox_id());
      if (!now.ok() || now->phase() != sandbox.phase() || now->generation() != sandbox.generation()) {
        return absl::CancelledError("superseded by a newer request");
      }
      RETURN_IF_ERROR(client.DestroySandbox(sandbox.sandbox_id()).status());
      return absl::UnavailableError("rebuilding after an unfinished teardown on the host");
    }
    default:
      return absl::UnavailableError(absl::StrCat("host reports ", v1::SandboxPhase_Name(status.phase())));
  }
}

// The other nodes came up: only the failed ones get fresh disks and a restart, through a
// reset of those nodes (the next generation), which the session report counts as a reset.
absl::Status SandboxDriver::ReplaceNodes(const v1::Sandbox& sandbox,
                                         const std::vector<std::string>& nodes,
                                         const std::string& reason) {
  const std::set<std::string> chosen(nodes.begin(), nodes.end());
  std::string names = absl::StrJoin(nodes, ", ");
  spdlog::warn("sandbox {}: {} failed to come up on host {} ({}); replacing only {}",
               sandbox.sandbox_id(), names, sandbox.host_id(), reason,
               nodes.size() == 1 ? "it" : "them");
  RETURN_IF_ERROR(Transition(sandbox.sandbox_id(), {sandbox.phase()}, sandbox.generation(),
                             [&](v1::Sandbox& s) {
                               s.set_phase(v1::SANDBOX_PHASE_RESETTING);
                               s.set_generation(s.generation() + 1);
                               s.clear_reset_nodes();
                               for (const std::string& n : nodes) s.add_reset_nodes(n);
                               s.set_message(absl::StrCat("replacing ", names,
                                                          ", which failed to come up: ", reason));
                               for (v1::NodeStatus& n : *s.mutable_nodes()) {
                                 if (chosen.contains(n.name())) n.set_phase(v1::NODE_PHASE_UNSPECIFIED);
                               }
                             })
                      .status());
  return absl::OkStatus();  // the next pass builds the RESETTING sandbox
}

absl::Status SandboxDriver::Fail(const v1::Sandbox& sandbox, const std::string& reason,
                                 WorkerClient* client) {
  spdlog::warn("sandbox {} failed: {}", sandbox.sandbox_id(), reason);
  RETURN_IF_ERROR(Transition(sandbox.sandbox_id(), {sandbox.phase()}, sandbox.generation(),
                             [&](v1::Sandbox& s) {
                               s.set_phase(v1::SANDBOX_PHASE_FAILED);
                               s.set_message(reason);
                             })
                      .status());
  {
    absl::MutexLock lock(&mu_);
    retries_.erase(sandbox.sandbox_id());
  }
  // What is left on the host reserves nothing any more; if this fails, orphan removal ends it.
  if (client != nullptr) client->DestroySandbox(sandbox.sandbox_id()).IgnoreError();
  return absl::OkStatus();
}

absl::Status SandboxDriver::Destroy(const std::string& sandbox_id) {
  ASSIGN_OR_RETURN(v1::Sandbox sandbox, store_->GetSandbox(sandbox_id));
  if (sandbox.phase() != v1::SANDBOX_PHASE_DESTROYING) return absl::OkStatus();
  absl::StatusOr<HostRecord> host = store_->GetHost(sandbox.host_id());
  std::string note;
  if (host.ok() && hosts_->Healthy(host->host)) {
    std::shared_ptr<WorkerClient> client = workers_->ForAddress(host->host.address());
    RETURN_IF_ERROR(client->DestroySandbox(sandbox_id).status());
  } else {
    note = absl::StrCat("host ", sandbox.host_id(),
                        " is unreachable; what it still holds is removed when it reports again");
  }
  return Transition(sandbox_id, {v1::SANDBOX_PHASE_DESTROYING}, sandbox.generation(),
                    [&](v1::Sandbox& s) {
                      s.set_phase(v1::SANDBOX_PHASE_DESTROYED);
                      s.set_message(note);
                    })
      .status();
}

}  // namespace labrack::controller
