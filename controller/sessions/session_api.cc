#include "controller/sessions/session_api.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/names.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "common/uuid.h"
#include "controller/core/sandbox_api.h"
#include "controller/sessions/session_sandbox.h"
#include "controller/sessions/session_status.h"
#include "google/protobuf/util/time_util.h"

namespace labrack::controller {
namespace {

using google::protobuf::util::TimeUtil;

constexpr uint32_t kMinDurationSeconds = 60;
constexpr uint32_t kMaxDurationSeconds = 24 * 3600;
constexpr uint32_t kMaxLeadSeconds = 24 * 3600;

std::string Describe(const v1::Capacity& c) {
  return absl::StrCat(c.vcpus(), " vCPU, ", c.memory_mib(), " MiB memory, ", c.disk_mib(),
                      " MiB disk");
}

v1::Capacity Times(const v1::Capacity& c, uint32_t n) {
  v1::Capacity total;
  total.set_vcpus(c.vcpus() * n);
  total.set_memory_mib(c.memory_mib() * n);
  total.set_disk_mib(c.disk_mib() * n);
  return total;
}

absl::Status ValidateCreate(const v1::CreateSessionRequest& request) {
  RETURN_IF_ERROR(ValidateSessionName("name", request.name()));
  RETURN_IF_ERROR(ValidateObjectName("topology", request.topology()));
  RETURN_IF_ERROR(ValidateRequestId(request.request_id()));
  if (!request.pool().empty()) RETURN_IF_ERROR(ValidateSessionName("pool", request.pool()));
  if (request.candidates().empty() || request.candidates_size() > kMaxSessionCandidates) {
    return absl::InvalidArgumentError(
        absl::StrCat("candidates: 1 to ", kMaxSessionCandidates, " are needed, not ",
                     request.candidates_size()));
  }
  std::set<std::string> seen;
  for (int i = 0; i < request.candidates_size(); ++i) {
    const std::string field = absl::StrCat("candidates[", i, "]");
    RETURN_IF_ERROR(ValidateCandidateId(field, request.candidates(i)));
    if (!seen.insert(request.candidates(i)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": candidate '", request.candidates(i), "' is listed twice"));
    }
  }
  if (request.duration_seconds() < kMinDurationSeconds ||
      request.duration_seconds() > kMaxDurationSeconds) {
    return absl::InvalidArgumentError(absl::StrCat(
        "duration_seconds: must be from ", kMinDurationSeconds, " (1 minute) to ",
        kMaxDurationSeconds, " (24 hours), not ", request.duration_seconds()));
  }
  if (request.lead_seconds() > kMaxLeadSeconds) {
    return absl::InvalidArgumentError(absl::StrCat("lead_seconds: at most ", kMaxLeadSeconds,
                                                   " (24 hours), not ", request.lead_seconds()));
  }
  if (request.has_start_time()) {
    const google::protobuf::Timestamp& t = request.start_time();
    if (t.seconds() < TimeUtil::kTimestampMinSeconds || t.seconds() > TimeUtil::kTimestampMaxSeconds ||
        t.nanos() < 0 || t.nanos() > 999999999) {
      return absl::InvalidArgumentError("start_time: not a valid time");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::Session> SessionApi::Create(const v1::CreateSessionRequest& request,
                                               const std::string& owner) {
  RETURN_IF_ERROR(ValidateCreate(request));
  const absl::Time now = config_->clock();
  if (request.has_start_time() && ToTime(request.start_time()) +
                                          absl::Seconds(request.duration_seconds()) <= now) {
    return absl::InvalidArgumentError("start_time: the session would have ended already");
  }
  ASSIGN_OR_RETURN(ResolvedTopology resolved,
                   ResolveForCreate(*topologies_, request.topology(), request.topology_version(),
                                    request.image_overrides()));
  const absl::Time start = request.has_start_time() ? ToTime(request.start_time()) : now;
  const absl::Time provision_at = start - absl::Seconds(request.lead_seconds());
  const bool provision_now = provision_at <= now;

  v1::Session session;
  session.set_session_id(NewUuid4());
  session.set_request_id(request.request_id());
  session.set_name(request.name());
  session.set_topology(resolved.record.topology().name());
  session.set_topology_version(resolved.record.version());
  *session.mutable_image_overrides() = request.image_overrides();
  *session.mutable_start_time() = ToTimestamp(start);
  *session.mutable_end_time() = ToTimestamp(start + absl::Seconds(request.duration_seconds()));
  session.set_lead_seconds(request.lead_seconds());
  session.set_collect_evidence(!request.skip_evidence());
  session.set_pool(request.pool());
  session.set_owner(owner);
  session.set_phase(provision_now ? v1::SESSION_PHASE_PROVISIONING : v1::SESSION_PHASE_WAITING);
  session.set_message(provision_now ? "building every candidate's sandbox"
                                    : "capacity reserved; provisioning starts at start - lead");
  *session.mutable_created_at() = ToTimestamp(now);

  const v1::Capacity needs = NeedsOf(resolved.snapshot);
  *session.mutable_reserved() = Times(needs, request.candidates_size());
  std::vector<v1::Sandbox> sandboxes;
  for (const std::string& candidate : request.candidates()) {
    ASSIGN_OR_RETURN(v1::Sandbox s, NewSessionSandbox(session, candidate, resolved.snapshot,
                                                      needs, provision_now, now));
    v1::SessionCandidate& c = *session.add_candidates();
    c.set_candidate(candidate);
    c.set_sandbox_id(s.sandbox_id());
    sandboxes.push_back(std::move(s));
  }

  SandboxNeeds sandbox_needs{needs, ImagesOf(resolved.snapshot)};
  int placed = 0;
  v1::Capacity free_at_start;
  auto place = [&](const std::vector<HostRecord>& hosts) -> absl::StatusOr<std::string> {
    if (placed == 0) free_at_start = TotalFree(HostViews(hosts), config_->policy, now);
    absl::StatusOr<std::string> host =
        PickHost(HostViews(hosts), sandbox_needs, config_->policy, config_->clock());
    if (!host.ok() && absl::IsResourceExhausted(host.status())) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "session '", request.name(), "' needs ", request.candidates_size(), " sandboxes of ",
          Describe(needs), " each (", Describe(session.reserved()), " in all); the hosts have ",
          Describe(free_at_start), " free and can take only ", placed, " of them (",
          host.status().message(), "); nothing was reserved"));
    }
    if (host.ok()) ++placed;
    return host;
  };
  // A repeated request_id gets the first create's session back from the store.
  ASSIGN_OR_RETURN(v1::Session created,
                   store_->CreateSession(session, sandboxes, resolved.snapshot, place));
  wake_();
  return WithLiveStatus(*store_, created, false);
}

absl::StatusOr<v1::Session> SessionApi::Find(const std::string& session) {
  if (ValidateSandboxId("session", session).ok() && session.size() == 36) {
    absl::StatusOr<v1::Session> by_id = store_->GetSession(session);
    if (!absl::IsNotFound(by_id.status())) return by_id;
  }
  if (absl::Status name = ValidateSessionName("session", session); !name.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("session: '", session, "' is neither a session id nor a session name"));
  }
  return store_->GetSessionByName(session);
}

absl::StatusOr<v1::Session> SessionApi::Get(const std::string& session) {
  ASSIGN_OR_RETURN(v1::Session found, Find(session));
  return WithLiveStatus(*store_, std::move(found), true);
}

absl::StatusOr<std::vector<v1::Session>> SessionApi::List(const v1::ListSessionsRequest& request) {
  ASSIGN_OR_RETURN(std::vector<v1::Session> sessions, store_->ListSessions(request.include_ended()));
  for (v1::Session& s : sessions) {
    ASSIGN_OR_RETURN(s, WithLiveStatus(*store_, std::move(s), false));
    s.clear_candidates();
  }
  return sessions;
}

absl::StatusOr<v1::Session> SessionApi::End(const std::string& session) {
  ASSIGN_OR_RETURN(v1::Session found, Find(session));
  ASSIGN_OR_RETURN(v1::Session ended,
                   store_->UpdateSession(found.session_id(), [](v1::Session& s) {
                     if (s.phase() == v1::SESSION_PHASE_ENDING ||
                         s.phase() == v1::SESSION_PHASE_ENDED) {
                       return absl::OkStatus();
                     }
                     s.set_phase(v1::SESSION_PHASE_ENDING);
                     s.set_message("ended on request: freezing every guest");
                     return absl::OkStatus();
                   }));
  wake_();
  return WithLiveStatus(*store_, std::move(ended), true);
}

}  // namespace labrack::controller
