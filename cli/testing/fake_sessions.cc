// Steps are kStep apart, like the fake's sandboxes, so that a test sees PROVISIONING with
// some candidates ready before the session is READY. Times are the wall clock's.
#include "cli/testing/fake_sessions.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace labrack::cli::testing {
namespace {

constexpr absl::Duration kStep = absl::Milliseconds(30);
constexpr absl::Duration kStreamPoll = absl::Milliseconds(20);

using grpc::Status;
using grpc::StatusCode;

void SetNow(google::protobuf::Timestamp* ts) { ts->set_seconds(absl::ToUnixSeconds(absl::Now())); }

bool Settled(const v1::SessionCandidate& c) {
  return c.phase() == v1::SANDBOX_PHASE_READY || c.phase() == v1::SANDBOX_PHASE_FAILED;
}

}  // namespace

FakeSessions::~FakeSessions() { Stop(); }

void FakeSessions::Stop() {
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    threads.swap(threads_);
  }
  for (std::thread& t : threads) t.join();
}

Status FakeSessions::Create(const v1::CreateSessionRequest& req, const v1::TopologyRecord* topology,
                            const std::string& fail_all_with, v1::Session* resp) {
  absl::MutexLock lock(&mu_);
  creates_.push_back(req);
  if (fail_creates_ > 0) {
    --fail_creates_;
    return Status(StatusCode::UNAVAILABLE, "the store is busy");
  }
  for (const auto& [id, s] : sessions_) {
    if (!req.request_id().empty() && s.request_id() == req.request_id()) {
      *resp = s;
      return Status::OK;
    }
  }
  if (topology == nullptr) {
    return Status(StatusCode::NOT_FOUND, absl::StrCat("topology '", req.topology(), "' not found"));
  }
  if (req.candidates().empty()) {
    return Status(StatusCode::INVALID_ARGUMENT, "candidates: 1 to 500 are needed, not 0");
  }
  const int n = next_id_++;
  v1::Session s;
  s.set_session_id(absl::StrFormat("5e55%04x-0000-4000-8000-%012x", n, n));
  s.set_name(req.name());
  s.set_topology(req.topology());
  s.set_topology_version(topology->version());
  *s.mutable_image_overrides() = req.image_overrides();
  if (req.has_start_time()) {
    *s.mutable_start_time() = req.start_time();
  } else {
    SetNow(s.mutable_start_time());
  }
  s.mutable_end_time()->set_seconds(s.start_time().seconds() + req.duration_seconds());
  s.set_lead_seconds(req.lead_seconds());
  s.set_collect_evidence(!req.skip_evidence());
  s.set_request_id(req.request_id());
  SetNow(s.mutable_created_at());
  int nodes = topology->topology().nodes_size();
  for (int i = 0; i < req.candidates_size(); ++i) {
    v1::SessionCandidate* c = s.add_candidates();
    c->set_candidate(req.candidates(i));
    c->set_sandbox_id(absl::StrFormat("cafe%02x%02x-0000-4000-8000-%012x", n, i + 1, i + 1));
    c->set_phase(v1::SANDBOX_PHASE_PENDING);
    c->set_nodes_total(nodes);
    s.mutable_reserved()->set_vcpus(s.reserved().vcpus() + nodes);
  }
  bool later = s.start_time().seconds() - req.lead_seconds() > absl::ToUnixSeconds(absl::Now());
  s.set_phase(later ? v1::SESSION_PHASE_WAITING : v1::SESSION_PHASE_PROVISIONING);
  s.set_message(later ? "provisioning begins at start_time - lead" : "");
  sessions_[s.session_id()] = s;
  order_.push_back(s.session_id());
  Touch(sessions_[s.session_id()]);
  if (!later) {
    Every(s.session_id(), [this, fail_all_with](v1::Session& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return ProvisionStep(s, fail_all_with);
    });
  }
  *resp = sessions_[s.session_id()];
  return Status::OK;
}

bool FakeSessions::ProvisionStep(v1::Session& s, const std::string& fail_all_with) {
  if (s.phase() != v1::SESSION_PHASE_PROVISIONING) return false;
  for (v1::SessionCandidate& c : *s.mutable_candidates()) {
    if (Settled(c)) continue;
    auto fail = fail_candidates_.find(c.candidate());
    std::string message = fail != fail_candidates_.end() ? fail->second : fail_all_with;
    if (message.empty()) {
      c.set_phase(v1::SANDBOX_PHASE_READY);
      c.set_nodes_ready(c.nodes_total());
      s.set_ready(s.ready() + 1);
    } else {
      c.set_phase(v1::SANDBOX_PHASE_FAILED);
      c.set_message(message);
      s.set_failed(s.failed() + 1);
    }
    break;
  }
  int settled = 0;
  for (const v1::SessionCandidate& c : s.candidates()) settled += Settled(c);
  if (static_cast<int>(s.ready()) == s.candidates_size()) {
    s.set_phase(v1::SESSION_PHASE_READY);
    s.clear_message();
  } else {
    s.set_message(absl::StrCat(s.ready(), " of ", s.candidates_size(), " ready"));
  }
  Touch(s);
  return settled < s.candidates_size();
}

Status FakeSessions::Get(const std::string& session, v1::Session* resp) {
  absl::MutexLock lock(&mu_);
  v1::Session* s = Find(session);
  if (s == nullptr) {
    return Status(StatusCode::NOT_FOUND, absl::StrCat("session '", session, "' not found"));
  }
  *resp = *s;
  return Status::OK;
}

Status FakeSessions::List(const v1::ListSessionsRequest& req, v1::ListSessionsResponse* resp) {
  absl::MutexLock lock(&mu_);
  for (const std::string& id : order_) {
    const v1::Session& s = sessions_[id];
    if (s.phase() == v1::SESSION_PHASE_ENDED && !req.include_ended()) continue;
    v1::Session* listed = resp->add_sessions();
    *listed = s;
    listed->set_candidate_count(s.candidates_size());
    listed->clear_candidates();
  }
  return Status::OK;
}

Status FakeSessions::End(const std::string& session, v1::Session* resp) {
  absl::MutexLock lock(&mu_);
  v1::Session* s = Find(session);
  if (s == nullptr) {
    return Status(StatusCode::NOT_FOUND, absl::StrCat("session '", session, "' not found"));
  }
  if (s->phase() != v1::SESSION_PHASE_ENDING && s->phase() != v1::SESSION_PHASE_ENDED) {
    s->set_phase(v1::SESSION_PHASE_ENDING);
    s->set_message("freezing every guest");
    Touch(*s);
    Every(s->session_id(),
          [this](v1::Session& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return EndStep(s); });
  }
  *resp = *s;
  return Status::OK;
}

bool FakeSessions::EndStep(v1::Session& s) {
  v1::SessionReport& r = *s.mutable_report();
  if (!r.has_frozen_at()) {
    SetNow(r.mutable_frozen_at());
    for (v1::SessionCandidate& c : *s.mutable_candidates()) c.set_phase(v1::SANDBOX_PHASE_FROZEN);
    s.set_message(s.collect_evidence() ? "collecting evidence" : "tearing down");
    Touch(s);
    return true;
  }
  if (s.collect_evidence()) {
    SetNow(r.mutable_evidence_collected_at());
    r.set_evidence_dir(absl::StrCat("/var/lib/labrack/evidence/", s.name()));
  }
  SetNow(r.mutable_ended_at());
  for (const std::string& line : leftovers_) r.add_leftovers(line);
  r.set_nothing_left(leftovers_.empty());
  for (v1::SessionCandidate& c : *s.mutable_candidates()) {
    r.set_resets(r.resets() + c.resets_size());
    if (s.collect_evidence() && c.phase() == v1::SANDBOX_PHASE_FROZEN) {
      c.set_evidence_dir(absl::StrCat(r.evidence_dir(), "/", c.candidate()));
      c.set_evidence_files(3);
    }
    c.set_phase(v1::SANDBOX_PHASE_DESTROYED);
  }
  s.set_phase(v1::SESSION_PHASE_ENDED);
  s.set_message("");
  Touch(s);
  return false;
}

Status FakeSessions::Watch(grpc::ServerContext* ctx, const std::string& session,
                           grpc::ServerWriter<v1::Session>* writer) {
  std::string id;
  int limit;
  {
    absl::MutexLock lock(&mu_);
    v1::Session* s = Find(session);
    if (s == nullptr) {
      return Status(StatusCode::NOT_FOUND, absl::StrCat("session '", session, "' not found"));
    }
    id = s->session_id();
    limit = stream_limit_;
  }
  uint64_t seen = 0;
  for (int written = 0; !ctx->IsCancelled();) {
    if (limit > 0 && written == limit) return Status(StatusCode::UNAVAILABLE, "stream reset");
    v1::Session snapshot;
    {
      absl::MutexLock lock(&mu_);
      auto fresh = [&]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return changes_ != seen || stopping_; };
      mu_.AwaitWithTimeout(absl::Condition(&fresh), kStreamPoll);
      if (stopping_) return Status::OK;
      if (changes_ == seen) continue;
      seen = changes_;
      snapshot = sessions_[id];
    }
    if (!writer->Write(snapshot)) return Status::OK;
    ++written;
    if (snapshot.phase() == v1::SESSION_PHASE_ENDED) return Status::OK;
  }
  return Status(StatusCode::CANCELLED, "the client went away");
}

void FakeSessions::Add(const v1::Session& session) {
  absl::MutexLock lock(&mu_);
  if (!sessions_.count(session.session_id())) order_.push_back(session.session_id());
  sessions_[session.session_id()] = session;
  ++changes_;
}

void FakeSessions::FailCandidate(const std::string& candidate, const std::string& message) {
  absl::MutexLock lock(&mu_);
  fail_candidates_[candidate] = message;
}

void FakeSessions::FailNextCreates(int n) {
  absl::MutexLock lock(&mu_);
  fail_creates_ = n;
}

void FakeSessions::SetLeftovers(const std::vector<std::string>& leftovers) {
  absl::MutexLock lock(&mu_);
  leftovers_ = leftovers;
}

void FakeSessions::SetStreamLimit(int snapshots) {
  absl::MutexLock lock(&mu_);
  stream_limit_ = snapshots;
}

std::vector<v1::CreateSessionRequest> FakeSessions::creates() const {
  absl::MutexLock lock(&mu_);
  return creates_;
}

v1::Session* FakeSessions::Find(const std::string& session) {
  auto it = sessions_.find(session);
  if (it != sessions_.end()) return &it->second;
  for (auto id = order_.rbegin(); id != order_.rend(); ++id) {
    if (sessions_[*id].name() == session) return &sessions_[*id];
  }
  return nullptr;
}

void FakeSessions::Touch(v1::Session& s) {
  SetNow(s.mutable_updated_at());
  ++changes_;
}

void FakeSessions::Every(const std::string& id, std::function<bool(v1::Session&)> step) {
  threads_.emplace_back([this, step = std::move(step), id] {
    for (;;) {
      absl::SleepFor(kStep);
      absl::MutexLock lock(&mu_);
      v1::Session* s = Find(id);
      if (stopping_ || s == nullptr || !step(*s)) return;
    }
  });
}

}  // namespace labrack::cli::testing
