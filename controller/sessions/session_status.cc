#include "controller/sessions/session_status.h"

#include <map>

#include "common/status_macros.h"

namespace labrack::controller {

std::vector<v1::SessionReset> ResetsIn(const std::vector<v1::Event>& events) {
  std::vector<v1::SessionReset> resets;
  for (const v1::Event& e : events) {
    if (e.kind() != v1::EVENT_KIND_SANDBOX_PHASE || e.phase() != v1::SANDBOX_PHASE_RESETTING) {
      continue;
    }
    v1::SessionReset& r = resets.emplace_back();
    *r.mutable_time() = e.time();
    r.set_generation(e.generation());
    *r.mutable_nodes() = e.reset_nodes();
  }
  return resets;
}

absl::StatusOr<v1::Session> WithLiveStatus(Store& store, v1::Session session, bool with_resets) {
  SandboxFilter filter;
  filter.session_id = session.session_id();
  filter.include_destroyed = true;
  ASSIGN_OR_RETURN(std::vector<v1::Sandbox> sandboxes, store.ListSandboxes(filter));
  std::map<std::string, const v1::Sandbox*> by_id;
  for (const v1::Sandbox& s : sandboxes) by_id[s.sandbox_id()] = &s;
  uint32_t ready = 0;
  uint32_t failed = 0;
  uint32_t resets = 0;
  for (v1::SessionCandidate& c : *session.mutable_candidates()) {
    auto it = by_id.find(c.sandbox_id());
    if (it == by_id.end()) continue;
    const v1::Sandbox& s = *it->second;
    c.set_phase(s.phase());
    c.set_message(s.message());
    c.set_nodes_total(s.nodes_size());
    c.set_nodes_ready(0);
    for (const v1::NodeStatus& n : s.nodes()) {
      if (n.phase() == v1::NODE_PHASE_READY) c.set_nodes_ready(c.nodes_ready() + 1);
    }
    if (s.phase() == v1::SANDBOX_PHASE_READY) ++ready;
    if (s.phase() == v1::SANDBOX_PHASE_FAILED) ++failed;
    if (with_resets) {
      ASSIGN_OR_RETURN(std::vector<v1::Event> events, store.ListEvents(0, s.sandbox_id(), 0));
      c.clear_resets();
      for (v1::SessionReset& r : ResetsIn(events)) *c.add_resets() = std::move(r);
      resets += c.resets_size();
    }
  }
  session.set_ready(ready);
  session.set_failed(failed);
  session.set_candidate_count(session.candidates_size());
  if (with_resets) session.mutable_report()->set_resets(resets);
  return session;
}

}  // namespace labrack::controller
