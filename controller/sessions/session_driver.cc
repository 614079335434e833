#include "controller/sessions/session_driver.h"

#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/names.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "controller/core/sandbox_transition.h"
#include "controller/core/topology_catalog.h"
#include "controller/scheduler/scheduler.h"
#include "controller/sessions/evidence_collector.h"
#include "controller/sessions/session_sandbox.h"
#include "controller/sessions/session_status.h"
#include "spdlog/spdlog.h"

namespace labrack::controller {
namespace {

// At most this many failed candidates are named in a session's message.
constexpr int kNamedFailures = 3;
// How many times a candidate's FAILED sandbox is replaced before it stays failed for an
// operator to look at.
constexpr uint32_t kMaxReplacements = 2;

// Moves a sandbox from the phase and generation it was read at to `to`; OK and no change
// when it moved on meanwhile, which the next step sees.
absl::Status Move(Store& store, const v1::Sandbox& sandbox, v1::SandboxPhase to,
                  const std::string& message) {
  absl::StatusOr<v1::Sandbox> moved = TransitionSandbox(
      store, sandbox.sandbox_id(), {sandbox.phase()}, sandbox.generation(), [&](v1::Sandbox& s) {
        s.set_phase(to);
        s.set_message(message);
        if (to == v1::SANDBOX_PHASE_FROZEN) s.clear_reset_nodes();
      });
  return absl::IsFailedPrecondition(moved.status()) ? absl::OkStatus() : moved.status();
}

bool Built(v1::SandboxPhase p) {
  return p == v1::SANDBOX_PHASE_SCHEDULED || p == v1::SANDBOX_PHASE_PROVISIONING ||
         p == v1::SANDBOX_PHASE_RESETTING || p == v1::SANDBOX_PHASE_READY;
}

}  // namespace

std::string SessionDriver::EvidenceDir(const v1::Session& session) const {
  return absl::StrCat(config_->evidence_dir, "/", session.name(), "-",
                      Sandbox8(session.session_id()));
}

absl::StatusOr<std::vector<v1::Sandbox>> SessionDriver::SandboxesOf(const v1::Session& session) {
  SandboxFilter filter;
  filter.session_id = session.session_id();
  filter.include_destroyed = true;
  return store_->ListSandboxes(filter);
}

std::shared_ptr<WorkerClient> SessionDriver::WorkerOf(const v1::Sandbox& sandbox) {
  absl::StatusOr<HostRecord> host = store_->GetHost(sandbox.host_id());
  if (!host.ok() || !hosts_->Healthy(host->host)) return nullptr;
  return workers_->ForAddress(host->host.address());
}

absl::StatusOr<bool> SessionDriver::Advance(const std::string& session_id) {
  ASSIGN_OR_RETURN(v1::Session session, store_->GetSession(session_id));
  switch (session.phase()) {
    case v1::SESSION_PHASE_WAITING:
      return StartProvisioning(session);
    case v1::SESSION_PHASE_PROVISIONING:
    case v1::SESSION_PHASE_READY:
      return Track(session);
    case v1::SESSION_PHASE_ENDING:
      return End(session);
    default:
      return false;
  }
}

absl::StatusOr<bool> SessionDriver::StartProvisioning(const v1::Session& session) {
  const absl::Time now = config_->clock();
  if (now >= ToTime(session.end_time())) return Track(session);
  if (now < ToTime(session.start_time()) - absl::Seconds(session.lead_seconds())) return false;
  ASSIGN_OR_RETURN(std::vector<v1::Sandbox> sandboxes, SandboxesOf(session));
  for (const v1::Sandbox& s : sandboxes) {
    if (s.phase() != v1::SANDBOX_PHASE_PENDING) continue;
    RETURN_IF_ERROR(Move(*store_, s, v1::SANDBOX_PHASE_SCHEDULED, "waiting for its host to build it"));
  }
  RETURN_IF_ERROR(store_->UpdateSession(session.session_id(), [](v1::Session& s) {
    if (s.phase() != v1::SESSION_PHASE_WAITING) return absl::OkStatus();
    s.set_phase(v1::SESSION_PHASE_PROVISIONING);
    s.set_message("building every candidate's sandbox");
    return absl::OkStatus();
  }).status());
  wake_();
  return true;
}

absl::StatusOr<bool> SessionDriver::ReplaceFailed(const v1::Session& session) {
  ASSIGN_OR_RETURN(std::vector<v1::Sandbox> sandboxes, SandboxesOf(session));
  std::map<std::string, const v1::Sandbox*> by_id;
  for (const v1::Sandbox& s : sandboxes) by_id[s.sandbox_id()] = &s;
  bool replaced = false;
  for (const v1::SessionCandidate& c : session.candidates()) {
    auto it = by_id.find(c.sandbox_id());
    if (it == by_id.end() || it->second->phase() != v1::SANDBOX_PHASE_FAILED ||
        c.replacements() >= kMaxReplacements) {
      continue;
    }
    const v1::Sandbox& failed = *it->second;
    ASSIGN_OR_RETURN(v1::Topology snapshot, store_->GetSandboxTopology(failed.sandbox_id()));
    const absl::Time now = config_->clock();
    ASSIGN_OR_RETURN(v1::Sandbox replacement,
                     NewSessionSandbox(session, c.candidate(), snapshot, failed.reserved(),
                                       /*provision_now=*/true, now));
    SandboxNeeds needs{failed.reserved(), ImagesOf(snapshot)};
    absl::StatusOr<v1::Session> done = store_->ReplaceSessionSandbox(
        session.session_id(), failed.sandbox_id(), replacement, snapshot,
        [&](const std::vector<HostRecord>& hosts) {
          return PickHost(HostViews(hosts), needs, config_->policy, now);
        });
    // No room now: the candidate stays FAILED (and named) until the next pass finds some.
    if (absl::IsResourceExhausted(done.status()) || absl::IsFailedPrecondition(done.status())) {
      continue;
    }
    RETURN_IF_ERROR(done.status());
    spdlog::info("session {}: candidate {}'s sandbox {} failed; replaced", session.name(),
                 c.candidate(), failed.sandbox_id());
    replaced = true;
  }
  if (replaced) wake_();
  return replaced;
}

absl::StatusOr<bool> SessionDriver::Track(const v1::Session& session) {
  const bool over = config_->clock() >= ToTime(session.end_time());
  if (!over && session.phase() != v1::SESSION_PHASE_WAITING) {
    ASSIGN_OR_RETURN(bool replaced, ReplaceFailed(session));
    if (replaced) return true;  // the next step reads the session anew
  }
  ASSIGN_OR_RETURN(v1::Session live, WithLiveStatus(*store_, session, false));
  std::vector<std::string> failures;
  for (const v1::SessionCandidate& c : live.candidates()) {
    if (c.phase() == v1::SANDBOX_PHASE_FAILED) {
      failures.push_back(absl::StrCat(c.candidate(), ": ", c.message()));
    }
  }
  const int total = live.candidates_size();
  std::string message = absl::StrCat(live.ready(), " of ", total, " ready");
  if (!failures.empty()) {
    absl::StrAppend(&message, ", ", failures.size(), " failed (");
    std::vector<std::string> named(failures.begin(),
                                   failures.begin() + std::min<size_t>(failures.size(), kNamedFailures));
    absl::StrAppend(&message, absl::StrJoin(named, "; "));
    if (failures.size() > named.size()) {
      absl::StrAppend(&message, "; and ", failures.size() - named.size(), " more");
    }
    absl::StrAppend(&message, ")");
  }
  bool changed = false;
  RETURN_IF_ERROR(store_->UpdateSession(session.session_id(), [&](v1::Session& s) {
    if (s.phase() != v1::SESSION_PHASE_PROVISIONING && s.phase() != v1::SESSION_PHASE_READY &&
        s.phase() != v1::SESSION_PHASE_WAITING) {
      return absl::OkStatus();
    }
    v1::SessionPhase next = over ? v1::SESSION_PHASE_ENDING
                            : static_cast<int>(live.ready()) == total ? v1::SESSION_PHASE_READY
                                                                      : v1::SESSION_PHASE_PROVISIONING;
    std::string text = over ? "time is up: freezing every guest" : message;
    changed = s.phase() != next || s.message() != text;
    s.set_phase(next);
    s.set_message(text);
    return absl::OkStatus();
  }).status());
  return changed;
}

absl::StatusOr<bool> SessionDriver::End(const v1::Session& session) {
  ASSIGN_OR_RETURN(std::vector<v1::Sandbox> sandboxes, SandboxesOf(session));
  if (!session.report().has_frozen_at()) {
    RETURN_IF_ERROR(Freeze(session, sandboxes));
    return true;
  }
  if (session.collect_evidence() && !session.report().has_evidence_collected_at()) {
    RETURN_IF_ERROR(Collect(session, sandboxes));
    return true;
  }
  ASSIGN_OR_RETURN(bool all_gone, TearDown(sandboxes));
  if (!all_gone) return false;
  RETURN_IF_ERROR(Finish(session, sandboxes));
  return true;
}

absl::Status SessionDriver::Freeze(const v1::Session& session,
                                   const std::vector<v1::Sandbox>& sandboxes) {
  // The store first: a build or reset still under way sees its sandbox move on and leaves
  // it alone, so the pause below cannot be mistaken for a failed boot.
  for (const v1::Sandbox& s : sandboxes) {
    if (s.phase() == v1::SANDBOX_PHASE_PENDING) {
      RETURN_IF_ERROR(Move(*store_, s, v1::SANDBOX_PHASE_DESTROYED,
                           "the session ended before it was built"));
    } else if (Built(s.phase())) {
      RETURN_IF_ERROR(Move(*store_, s, v1::SANDBOX_PHASE_FROZEN, "frozen: the session ended"));
    } else if (s.phase() == v1::SANDBOX_PHASE_LOST) {
      RETURN_IF_ERROR(Move(*store_, s, v1::SANDBOX_PHASE_DESTROYING,
                           "the session ended while its host was unreachable"));
    }
  }
  ASSIGN_OR_RETURN(std::vector<v1::Sandbox> now, SandboxesOf(session));
  for (const v1::Sandbox& s : now) {
    if (s.phase() != v1::SANDBOX_PHASE_FROZEN) continue;
    std::shared_ptr<WorkerClient> worker = WorkerOf(s);
    if (worker == nullptr) continue;  // its host is silent; nothing can change there either
    absl::StatusOr<v1::SandboxStatus> frozen = worker->FreezeSandbox(s.sandbox_id());
    if (IsRetryable(frozen.status())) return frozen.status();
    if (!frozen.ok() && !absl::IsNotFound(frozen.status())) {
      spdlog::warn("session {}: freezing sandbox {} of {}: {}", session.name(), s.sandbox_id(),
                   s.candidate(), frozen.status().ToString());
    }
  }
  const absl::Time frozen_at = config_->clock();
  return store_->UpdateSession(session.session_id(), [&](v1::Session& x) {
    *x.mutable_report()->mutable_frozen_at() = ToTimestamp(frozen_at);
    x.set_message(x.collect_evidence() ? "guests frozen: collecting evidence"
                                       : "guests frozen: tearing down");
    return absl::OkStatus();
  }).status();
}

absl::Status SessionDriver::Collect(const v1::Session& session,
                                    const std::vector<v1::Sandbox>& sandboxes) {
  std::map<std::string, const v1::Sandbox*> by_id;
  for (const v1::Sandbox& s : sandboxes) by_id[s.sandbox_id()] = &s;
  const std::string root = EvidenceDir(session);
  for (int i = 0; i < session.candidates_size(); ++i) {
    const v1::SessionCandidate& c = session.candidates(i);
    if (!c.evidence_dir().empty() || !c.evidence_error().empty()) continue;  // done before
    auto it = by_id.find(c.sandbox_id());
    if (it == by_id.end()) continue;
    const v1::Sandbox& sandbox = *it->second;
    EvidenceSource source;
    source.session = &session;
    source.sandbox = &sandbox;
    ASSIGN_OR_RETURN(source.events, store_->ListEvents(0, sandbox.sandbox_id(), 0));
    std::shared_ptr<WorkerClient> worker;
    std::string note;
    if (sandbox.phase() == v1::SANDBOX_PHASE_FROZEN) {
      worker = WorkerOf(sandbox);
      if (worker == nullptr) note = absl::StrCat("host ", sandbox.host_id(), " is unreachable; ");
    } else {
      note = absl::StrCat("the sandbox was ", v1::SandboxPhase_Name(sandbox.phase()),
                          sandbox.message().empty() ? "" : absl::StrCat(" (", sandbox.message(), ")"),
                          "; ");
    }
    source.worker = worker.get();
    const std::string dir = absl::StrCat(root, "/", c.candidate());
    absl::StatusOr<v1::EvidenceManifest> manifest = CollectEvidence(source, dir);
    if (IsRetryable(manifest.status())) return manifest.status();
    RETURN_IF_ERROR(store_->UpdateSession(session.session_id(), [&](v1::Session& x) {
      v1::SessionCandidate& slot = *x.mutable_candidates(i);
      if (manifest.ok()) {
        slot.set_evidence_dir(dir);
        slot.set_evidence_files(manifest->files_size());
        if (!note.empty()) slot.set_evidence_error(absl::StrCat(note, "only the controller's records were kept"));
      } else {
        slot.set_evidence_error(std::string(manifest.status().message()));
      }
      return absl::OkStatus();
    }).status());
  }
  const absl::Time collected_at = config_->clock();
  return store_->UpdateSession(session.session_id(), [&](v1::Session& x) {
    *x.mutable_report()->mutable_evidence_collected_at() = ToTimestamp(collected_at);
    x.mutable_report()->set_evidence_dir(root);
    x.set_message("evidence collected: tearing down");
    return absl::OkStatus();
  }).status();
}

absl::StatusOr<bool> SessionDriver::TearDown(const std::vector<v1::Sandbox>& sandboxes) {
  bool all_gone = true;
  bool moved = false;
  for (const v1::Sandbox& s : sandboxes) {
    switch (s.phase()) {
      case v1::SANDBOX_PHASE_DESTROYED:
        continue;
      case v1::SANDBOX_PHASE_FAILED:
        // Torn down on its host when it failed; leftovers show in the check below.
        RETURN_IF_ERROR(Move(*store_, s, v1::SANDBOX_PHASE_DESTROYED, s.message()));
        continue;
      case v1::SANDBOX_PHASE_DESTROYING:
        break;
      default:
        // FROZEN, or anything a restart left in between.
        RETURN_IF_ERROR(Move(*store_, s, v1::SANDBOX_PHASE_DESTROYING,
                             "removing its guests, networks and disks: the session ended"));
        moved = true;
        break;
    }
    all_gone = false;
  }
  if (moved) wake_();
  return all_gone;
}

absl::Status SessionDriver::WriteReport(const v1::Session& session) {
  ASSIGN_OR_RETURN(std::string json, ToJson(session, true));
  const std::string dir = EvidenceDir(session);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string path = absl::StrCat(dir, "/report.json");
  std::ofstream out(path + ".partial", std::ios::trunc);
  out << json;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("write ", path, ".partial failed"));
  std::filesystem::rename(path + ".partial", path, ec);
  if (ec) return absl::InternalError(absl::StrCat("rename to ", path, ": ", ec.message()));
  return absl::OkStatus();
}

absl::Status SessionDriver::Finish(const v1::Session& session,
                                   const std::vector<v1::Sandbox>& sandboxes) {
  std::vector<std::string> leftovers;
  for (const v1::Sandbox& s : sandboxes) {
    std::shared_ptr<WorkerClient> worker = WorkerOf(s);
    if (worker == nullptr) {
      leftovers.push_back(absl::StrCat("host ", s.host_id(), " is unreachable: sandbox ",
                                       s.sandbox_id(), " (", s.candidate(), ") was not checked"));
      continue;
    }
    // A destroy scans the host for anything of the sandbox: finding something now means
    // the teardown left it (it is removed now, and reported).
    absl::StatusOr<bool> existed = worker->DestroySandbox(s.sandbox_id());
    if (IsRetryable(existed.status())) return existed.status();
    if (!existed.ok()) {
      leftovers.push_back(absl::StrCat("host ", s.host_id(), ": checking sandbox ",
                                       s.sandbox_id(), " failed: ", existed.status().message()));
    } else if (*existed) {
      leftovers.push_back(absl::StrCat("host ", s.host_id(), " still held objects of sandbox ",
                                       s.sandbox_id(), " (", s.candidate(), "); removed them now"));
    }
  }
  // The session as it ends, with every candidate's resets; its report.json is written
  // before the store says ENDED, so an ENDED session always has it.
  ASSIGN_OR_RETURN(v1::Session live, WithLiveStatus(*store_, session, true));
  const absl::Time ended_at = config_->clock();
  auto end = [&](v1::Session& x) {
    v1::SessionReport& report = *x.mutable_report();
    *report.mutable_ended_at() = ToTimestamp(ended_at);
    report.set_nothing_left(leftovers.empty());
    report.clear_leftovers();
    for (const std::string& line : leftovers) report.add_leftovers(line);
    report.set_resets(live.report().resets());
    x.set_phase(v1::SESSION_PHASE_ENDED);
    x.set_message(leftovers.empty() ? "ended: every sandbox removed, nothing left on the hosts"
                                    : absl::StrCat("ended: ", leftovers.size(),
                                                   " sandboxes could not be confirmed gone"));
  };
  if (session.collect_evidence()) {
    v1::Session final_view = live;
    end(final_view);
    RETURN_IF_ERROR(WriteReport(final_view));
  }
  return store_->UpdateSession(session.session_id(), [&](v1::Session& x) {
    end(x);
    return absl::OkStatus();
  }).status();
}

}  // namespace labrack::controller
