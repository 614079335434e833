#include "controller/reconciler/reconciler.h"

#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "spdlog/spdlog.h"

namespace labrack::controller {
namespace {

constexpr absl::Duration kRetryDelay = absl::Seconds(2);
// A report must be this much newer than a sandbox's last change before its absence from
// the report counts: the report may have been assembled just before the change.
constexpr absl::Duration kReportSlack = absl::Seconds(2);

const v1::SandboxStatus* Reported(const HostRecord& host, const std::string& sandbox_id) {
  for (const v1::SandboxStatus& s : host.inventory.sandboxes()) {
    if (s.sandbox_id() == sandbox_id) return &s;
  }
  return nullptr;
}

bool Building(v1::SandboxPhase p) {
  return p == v1::SANDBOX_PHASE_SCHEDULED || p == v1::SANDBOX_PHASE_PROVISIONING ||
         p == v1::SANDBOX_PHASE_RESETTING;
}

}  // namespace

Reconciler::Reconciler(Store* store, HostRegistry* hosts, WorkerDirectory* workers,
                       ImageDistributor* images, const ControllerConfig* config)
    : store_(store),
      hosts_(hosts),
      workers_(workers),
      config_(config),
      driver_(store, hosts, workers, images, config, [this] { return tasks_.stopping(); }),
      sessions_(store, hosts, workers, config, [this] { Wake(); }) {}

void Reconciler::Start() {
  {
    absl::MutexLock lock(&mu_);
    started_ = config_->clock();
  }
  thread_ = std::thread([this] { Loop(); });
}

void Reconciler::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
  tasks_.Stop();
}

void Reconciler::Wake() {
  absl::MutexLock lock(&mu_);
  wake_ = true;
}

void Reconciler::Loop() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return wake_ || stop_; };
      mu_.AwaitWithTimeout(absl::Condition(&woken), config_->reconcile_interval);
      if (stop_) return;
      wake_ = false;
    }
    RunOnce();
  }
}

void Reconciler::RunOnce() {
  bool grace;
  {
    absl::MutexLock lock(&mu_);
    // Right after a start no host had the chance to report: nobody is declared lost yet.
    grace = config_->clock() - started_ < config_->host_timeout;
  }
  // Hosts first: a sandbox a host reports was in the store before the host had it, so it
  // is in the list read next.
  absl::StatusOr<std::vector<HostRecord>> hosts = store_->ListHosts();
  if (!hosts.ok()) return spdlog::error("reconciler: {}", hosts.status().ToString());
  SandboxFilter live;
  absl::StatusOr<std::vector<v1::Sandbox>> sandboxes = store_->ListSandboxes(live);
  if (!sandboxes.ok()) return spdlog::error("reconciler: {}", sandboxes.status().ToString());

  std::set<std::string> healthy = CheckHosts(*hosts, grace);
  std::map<std::string, const HostRecord*> by_id;
  for (const HostRecord& h : *hosts) by_id[h.host.host_id()] = &h;
  std::map<std::string, v1::Sandbox> known;
  for (const v1::Sandbox& s : *sandboxes) {
    auto it = by_id.find(s.host_id());
    Visit(s, it == by_id.end() ? nullptr : it->second, healthy.contains(s.host_id()), grace);
    if (s.phase() != v1::SANDBOX_PHASE_FAILED) known[s.sandbox_id()] = s;
  }
  RemoveOrphans(*hosts, healthy, known);
  absl::StatusOr<std::vector<v1::Session>> sessions = store_->ListSessions(false);
  if (!sessions.ok()) return spdlog::error("reconciler: {}", sessions.status().ToString());
  for (const v1::Session& session : *sessions) StartSession(session);
  if (pools_ == nullptr) return;
  absl::StatusOr<std::vector<v1::Pool>> pools = store_->ListPools();
  if (!pools.ok()) return spdlog::error("reconciler: {}", pools.status().ToString());
  for (const v1::Pool& pool : *pools) StartPool(pool);
}

std::set<std::string> Reconciler::CheckHosts(const std::vector<HostRecord>& hosts, bool grace) {
  std::set<std::string> healthy;
  for (const HostRecord& h : hosts) {
    const std::string& id = h.host.host_id();
    bool ok = hosts_->Healthy(h.host);
    if (ok) healthy.insert(id);
    bool was_unreachable;
    {
      absl::MutexLock lock(&mu_);
      was_unreachable = unreachable_.contains(id);
      if (ok) unreachable_.erase(id);
      if (!ok && !grace) unreachable_.insert(id);
    }
    if (ok && was_unreachable) HostEvent(v1::EVENT_KIND_HOST_HEALTHY, id, "reporting again");
    if (!ok && !grace && !was_unreachable) {
      HostEvent(v1::EVENT_KIND_HOST_UNREACHABLE, id,
                absl::StrCat("no report for more than ", absl::FormatDuration(config_->host_timeout)));
    }
  }
  return healthy;
}

void Reconciler::Visit(const v1::Sandbox& s, const HostRecord* host, bool healthy, bool grace) {
  bool lost = !healthy && !grace;
  // A session's sandboxes end with their session, which keeps their evidence first.
  if (s.session_id().empty() && s.has_expires_at() && ToTime(s.expires_at()) <= config_->clock()) {
    return Expire(s);
  }
  switch (s.phase()) {
    case v1::SANDBOX_PHASE_SCHEDULED:
    case v1::SANDBOX_PHASE_PROVISIONING:
    case v1::SANDBOX_PHASE_RESETTING:
      if (lost) return MarkLost(s);
      if (healthy) StartBuild(s);
      return;
    case v1::SANDBOX_PHASE_READY:
      if (lost) return MarkLost(s);
      if (healthy && host != nullptr) CheckStillThere(s, *host);
      return;
    case v1::SANDBOX_PHASE_DESTROYING:
      if (healthy || lost) StartDestroy(s);
      return;
    case v1::SANDBOX_PHASE_LOST:
      if (healthy && host != nullptr) Restore(s, *host);
      return;
    default:
      return;
  }
}

bool Reconciler::Due(const std::string& key) {
  absl::MutexLock lock(&mu_);
  auto it = retry_after_.find(key);
  return it == retry_after_.end() || config_->clock() >= it->second;
}

void Reconciler::Finished(const std::string& key, const absl::Status& status, bool wake) {
  absl::MutexLock lock(&mu_);
  if (status.ok() || !IsRetryable(status)) {
    retry_after_.erase(key);
  } else {
    retry_after_[key] = config_->clock() + kRetryDelay;
  }
  if (!status.ok()) spdlog::info("{}: {}", key, status.ToString());
  if (wake) wake_ = true;  // the next step (e.g. a destroy that waited for a build) may start now
}

void Reconciler::StartBuild(const v1::Sandbox& s) {
  std::string key = absl::StrCat("build/", s.sandbox_id());
  if (!Due(key)) return;
  tasks_.TryStart(key, [this, key, id = s.sandbox_id()] { Finished(key, driver_.Build(id)); });
}

void Reconciler::StartDestroy(const v1::Sandbox& s) {
  std::string key = absl::StrCat("destroy/", s.sandbox_id());
  if (!Due(key)) return;
  tasks_.TryStart(key, [this, key, id = s.sandbox_id()] { Finished(key, driver_.Destroy(id)); });
}

void Reconciler::StartSession(const v1::Session& session) {
  std::string key = absl::StrCat("session/", session.session_id());
  if (!Due(key)) return;
  tasks_.TryStart(key, [this, key, id = session.session_id()] {
    absl::StatusOr<bool> changed = sessions_.Advance(id);
    // Only a step that did something asks for the next at once; the others wait for the
    // next pass, so a session that waits costs one store read a second.
    Finished(key, changed.status(), changed.ok() && *changed);
  });
}

void Reconciler::StartPool(const v1::Pool& pool) {
  std::string key = absl::StrCat("pool/", pool.name());
  if (!Due(key)) return;
  tasks_.TryStart(key, [this, key, name = pool.name()] {
    absl::StatusOr<bool> changed = pools_->Advance(name);
    Finished(key, changed.status(), changed.ok() && *changed);
  });
}

void Reconciler::Expire(const v1::Sandbox& s) {
  if (s.phase() == v1::SANDBOX_PHASE_DESTROYING || s.phase() == v1::SANDBOX_PHASE_DESTROYED) {
    return StartDestroy(s);
  }
  std::string when = absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", ToTime(s.expires_at()), absl::UTCTimeZone());
  driver_
      .Transition(s.sandbox_id(), {s.phase()}, s.generation(),
                  [&](v1::Sandbox& x) {
                    // A failed sandbox was torn down when it failed and reserves nothing.
                    x.set_phase(x.phase() == v1::SANDBOX_PHASE_FAILED ? v1::SANDBOX_PHASE_DESTROYED
                                                                     : v1::SANDBOX_PHASE_DESTROYING);
                    x.set_message(absl::StrCat("expired at ", when));
                  })
      .IgnoreError();
  Wake();
}

void Reconciler::MarkLost(const v1::Sandbox& s) {
  driver_
      .Transition(s.sandbox_id(), {s.phase()}, s.generation(),
                  [&](v1::Sandbox& x) {
                    x.set_phase_before_lost(x.phase());
                    x.set_phase(v1::SANDBOX_PHASE_LOST);
                    x.set_message(absl::StrCat("host ", x.host_id(), " stopped reporting"));
                  })
      .IgnoreError();
}

// The host is back: a sandbox it still has resumes where it was; one it lost is built
// again if it was being built, and FAILS if it had been handed out READY.
void Reconciler::Restore(const v1::Sandbox& s, const HostRecord& host) {
  bool present = Reported(host, s.sandbox_id()) != nullptr;
  v1::SandboxPhase before = s.phase_before_lost();
  driver_
      .Transition(s.sandbox_id(), {v1::SANDBOX_PHASE_LOST}, s.generation(),
                  [&](v1::Sandbox& x) {
                    x.set_phase_before_lost(v1::SANDBOX_PHASE_UNSPECIFIED);
                    x.set_message(absl::StrCat("host ", x.host_id(), " is reporting again"));
                    if ((present && before != v1::SANDBOX_PHASE_UNSPECIFIED) || Building(before)) {
                      x.set_phase(before);
                    } else if (before == v1::SANDBOX_PHASE_DESTROYING) {
                      x.set_phase(v1::SANDBOX_PHASE_DESTROYED);
                    } else {
                      x.set_phase(v1::SANDBOX_PHASE_FAILED);
                      x.set_message(absl::StrCat("host ", x.host_id(), " came back without it"));
                    }
                  })
      .IgnoreError();
  Wake();
}

void Reconciler::CheckStillThere(const v1::Sandbox& s, const HostRecord& host) {
  if (ToTime(host.inventory.observed_at()) < ToTime(s.updated_at()) + kReportSlack) return;
  std::string why;
  if (const v1::SandboxStatus* reported = Reported(host, s.sandbox_id()); reported == nullptr) {
    why = absl::StrCat("its guests vanished from host ", s.host_id());
  } else {
    for (const v1::NodeStatus& n : reported->nodes()) {
      if (n.phase() != v1::NODE_PHASE_MISSING) continue;
      why = absl::StrCat("node ", n.name(), " vanished from host ", s.host_id(), " (", n.message(),
                         ")");
      break;
    }
  }
  if (why.empty()) return;
  // FAILED sandboxes are not the store's to keep on a host: what is left of it there goes
  // as an orphan (RemoveOrphans).
  driver_
      .Transition(s.sandbox_id(), {v1::SANDBOX_PHASE_READY}, s.generation(),
                  [&](v1::Sandbox& x) {
                    x.set_phase(v1::SANDBOX_PHASE_FAILED);
                    x.set_message(why);
                  })
      .IgnoreError();
}

void Reconciler::RemoveOrphans(const std::vector<HostRecord>& hosts,
                               const std::set<std::string>& healthy,
                               const std::map<std::string, v1::Sandbox>& known) {
  for (const HostRecord& h : hosts) {
    if (!healthy.contains(h.host.host_id())) continue;
    for (const v1::SandboxStatus& reported : h.inventory.sandboxes()) {
      auto it = known.find(reported.sandbox_id());
      if (it != known.end() && it->second.host_id() == h.host.host_id()) continue;
      std::string key = absl::StrCat("orphan/", h.host.host_id(), "/", reported.sandbox_id());
      if (!Due(key)) continue;
      tasks_.TryStart(key, [this, key, host = h.host, id = reported.sandbox_id()] {
        absl::StatusOr<bool> existed = workers_->ForAddress(host.address())->DestroySandbox(id);
        if (existed.ok() && *existed) {
          v1::Event e;
          e.set_kind(v1::EVENT_KIND_ORPHAN_REMOVED);
          e.set_host_id(host.host_id());
          e.set_sandbox_id(id);
          e.set_message("removed from the host: the store does not know it there");
          store_->AppendEvent(e).IgnoreError();
          spdlog::info("removed orphan sandbox {} from host {}", id, host.host_id());
        }
        Finished(key, existed.status());
      });
    }
  }
}

void Reconciler::HostEvent(v1::EventKind kind, const std::string& host_id,
                           const std::string& message) {
  v1::Event e;
  e.set_kind(kind);
  e.set_host_id(host_id);
  e.set_message(message);
  store_->AppendEvent(e).IgnoreError();
  spdlog::info("host {}: {}", host_id, message);
}

}  // namespace labrack::controller
