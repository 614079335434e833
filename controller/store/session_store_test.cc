// SqliteStore's sessions: all-or-nothing creation with placement, replays, live names,
// updates with events, and the sandbox filter by session.
#include <string>
#include <vector>

#include "controller/store/store_test_fixture.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"

namespace labrack::controller {
namespace {

using ::labrack::testing::IsOkAndHolds;
using ::labrack::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class SessionStore : public StoreTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(StoreTest::SetUp());
    ASSERT_NO_FATAL_FAILURE(AddHost("h1", 2048));
  }

  static v1::Session NewSession(const std::string& id, const std::string& name,
                                const std::string& request_id = "") {
    v1::Session session;
    session.set_session_id(id);
    session.set_name(name);
    session.set_request_id(request_id);
    session.set_topology("web");
    session.set_phase(v1::SESSION_PHASE_PROVISIONING);
    return session;
  }

  // `n` sandboxes of session `session_id` with ids <prefix>0000001, ... reserving 512 MiB.
  static std::vector<v1::Sandbox> Sandboxes(const std::string& session_id, int n,
                                            const std::string& prefix = "a") {
    std::vector<v1::Sandbox> sandboxes;
    for (int i = 1; i <= n; ++i) {
      v1::Sandbox s = NewSandbox(prefix + std::string(7 - std::to_string(i).size(), '0') +
                                 std::to_string(i));
      s.set_session_id(session_id);
      s.set_candidate("c" + std::to_string(i));
      sandboxes.push_back(s);
    }
    return sandboxes;
  }

  // Places on h1 while the reservations there leave room for 512 MiB more.
  static absl::StatusOr<std::string> PlaceWhileRoom(const std::vector<HostRecord>& hosts) {
    const v1::Host& h = hosts.front().host;
    if (h.reserved().memory_mib() + 512 > h.total().memory_mib()) {
      return absl::ResourceExhaustedError("h1 is full");
    }
    return h.host_id();
  }

  size_t LiveSandboxes() {
    absl::StatusOr<std::vector<v1::Sandbox>> all = store_->ListSandboxes(SandboxFilter());
    EXPECT_OK(all);
    return all.ok() ? all->size() : 0;
  }
};

TEST_F(SessionStore, CreateWritesTheSessionAndEverySandboxWithReservations) {
  absl::StatusOr<v1::Session> created = store_->CreateSession(
      NewSession("5e550001", "exam"), Sandboxes("5e550001", 4), WebTopology(), PlaceWhileRoom);
  ASSERT_OK(created);
  EXPECT_EQ(created->name(), "exam");
  SandboxFilter of_session;
  of_session.session_id = "5e550001";
  EXPECT_THAT(store_->ListSandboxes(of_session), IsOkAndHolds(SizeIs(4)));
  SandboxFilter other;
  other.session_id = "5e550002";
  EXPECT_THAT(store_->ListSandboxes(other), IsOkAndHolds(SizeIs(0)));
  absl::StatusOr<HostRecord> host = store_->GetHost("h1");
  ASSERT_OK(host);
  EXPECT_EQ(host->host.reserved().memory_mib(), 4 * 512);
  EXPECT_EQ(host->host.sandboxes(), 4);
  // Four sandbox phase events and the session's.
  absl::StatusOr<std::vector<v1::Event>> events = store_->ListEvents(0, "", 0);
  ASSERT_OK(events);
  ASSERT_THAT(*events, SizeIs(5));
  EXPECT_EQ(events->back().kind(), v1::EVENT_KIND_SESSION_PHASE);
  EXPECT_EQ(events->back().session_id(), "5e550001");
}

TEST_F(SessionStore, CreateThatDoesNotFitWritesNothing) {
  int calls = 0;
  PlaceFn place = [&](const std::vector<HostRecord>& hosts) {
    ++calls;
    return PlaceWhileRoom(hosts);
  };
  EXPECT_THAT(store_->CreateSession(NewSession("5e550001", "exam"), Sandboxes("5e550001", 5),
                                    WebTopology(), place),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("h1 is full")));
  // The fifth saw the four before it: placement counts the session's own sandboxes.
  EXPECT_EQ(calls, 5);
  EXPECT_EQ(LiveSandboxes(), 0);
  EXPECT_THAT(store_->ListSessions(true), IsOkAndHolds(SizeIs(0)));
  EXPECT_THAT(store_->ListEvents(0, "", 0), IsOkAndHolds(SizeIs(0)));
  absl::StatusOr<HostRecord> host = store_->GetHost("h1");
  ASSERT_OK(host);
  EXPECT_EQ(host->host.reserved().memory_mib(), 0);
}

TEST_F(SessionStore, SameRequestIdReturnsTheFirstSessionAndWritesNothing) {
  ASSERT_OK(store_->CreateSession(NewSession("5e550001", "exam", "req-1"),
                                  Sandboxes("5e550001", 2), WebTopology(), PlaceWhileRoom));
  absl::StatusOr<v1::Session> again =
      store_->CreateSession(NewSession("5e550002", "exam", "req-1"),
                            Sandboxes("5e550002", 2, "b"), WebTopology(), PlaceWhileRoom);
  ASSERT_OK(again);
  EXPECT_EQ(again->session_id(), "5e550001");
  EXPECT_EQ(LiveSandboxes(), 2);
}

TEST_F(SessionStore, ANameIsFreeAgainOnceItsSessionEnded) {
  ASSERT_OK(store_->CreateSession(NewSession("5e550001", "exam"), Sandboxes("5e550001", 1),
                                  WebTopology(), PlaceWhileRoom));
  EXPECT_THAT(store_->CreateSession(NewSession("5e550002", "exam"),
                                    Sandboxes("5e550002", 1, "b"), WebTopology(), PlaceWhileRoom),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("name: session 'exam'")));
  EXPECT_EQ(LiveSandboxes(), 1);
  ASSERT_OK(store_->UpdateSession("5e550001", [](v1::Session& s) {
    s.set_phase(v1::SESSION_PHASE_ENDED);
    return absl::OkStatus();
  }));
  Advance(absl::Seconds(1));
  ASSERT_OK(store_->CreateSession(NewSession("5e550002", "exam"), Sandboxes("5e550002", 1, "b"),
                                  WebTopology(), PlaceWhileRoom));
  absl::StatusOr<v1::Session> latest = store_->GetSessionByName("exam");
  ASSERT_OK(latest);
  EXPECT_EQ(latest->session_id(), "5e550002");
  EXPECT_THAT(store_->ListSessions(false), IsOkAndHolds(SizeIs(1)));
  EXPECT_THAT(store_->ListSessions(true), IsOkAndHolds(SizeIs(2)));
}

TEST_F(SessionStore, UpdateAppendsAnEventOnlyWhenThePhaseChanges) {
  ASSERT_OK(store_->CreateSession(NewSession("5e550001", "exam"), Sandboxes("5e550001", 1),
                                  WebTopology(), PlaceWhileRoom));
  absl::StatusOr<std::vector<v1::Event>> before = store_->ListEvents(0, "", 0);
  ASSERT_OK(before);
  ASSERT_OK(store_->UpdateSession("5e550001", [](v1::Session& s) {
    s.set_message("2 of 3 ready");
    return absl::OkStatus();
  }));
  EXPECT_THAT(store_->ListEvents(0, "", 0), IsOkAndHolds(SizeIs(before->size())));
  ASSERT_OK(store_->UpdateSession("5e550001", [](v1::Session& s) {
    s.set_phase(v1::SESSION_PHASE_ENDING);
    return absl::OkStatus();
  }));
  absl::StatusOr<std::vector<v1::Event>> after = store_->ListEvents(0, "", 0);
  ASSERT_OK(after);
  ASSERT_THAT(*after, SizeIs(before->size() + 1));
  EXPECT_EQ(after->back().session_phase(), v1::SESSION_PHASE_ENDING);
  // It survives a restart.
  ASSERT_NO_FATAL_FAILURE(Reopen());
  absl::StatusOr<v1::Session> read = store_->GetSession("5e550001");
  ASSERT_OK(read);
  EXPECT_EQ(read->phase(), v1::SESSION_PHASE_ENDING);
  EXPECT_EQ(read->message(), "2 of 3 ready");
  EXPECT_THAT(store_->GetSession("5e550009"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(SessionStore, AFailedSandboxIsReplacedInOneTransactionOnlyWhileItIsFailed) {
  v1::Session session = NewSession("5e550001", "exam");
  std::vector<v1::Sandbox> sandboxes = Sandboxes("5e550001", 2);
  for (const v1::Sandbox& s : sandboxes) {
    v1::SessionCandidate& c = *session.add_candidates();
    c.set_candidate(s.candidate());
    c.set_sandbox_id(s.sandbox_id());
  }
  ASSERT_OK(store_->CreateSession(session, sandboxes, WebTopology(), PlaceWhileRoom));
  v1::Sandbox replacement = NewSandbox("b0000001");
  replacement.set_session_id("5e550001");
  replacement.set_candidate("c1");
  // Not FAILED: nothing to replace.
  EXPECT_THAT(store_->ReplaceSessionSandbox("5e550001", "a0000001", replacement, WebTopology(),
                                            PlaceWhileRoom),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_OK(store_->UpdateSandbox("a0000001", [](v1::Sandbox& s) {
    s.set_phase(v1::SANDBOX_PHASE_FAILED);
    s.set_message("disk broke");
    return absl::OkStatus();
  }));
  // No room: nothing changes.
  auto full = [](const std::vector<HostRecord>&) -> absl::StatusOr<std::string> {
    return absl::ResourceExhaustedError("h1 is full");
  };
  EXPECT_THAT(store_->ReplaceSessionSandbox("5e550001", "a0000001", replacement, WebTopology(), full),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(store_->GetSandbox("b0000001"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->GetSandbox("a0000001"),
              IsOkAndHolds(::testing::Property(&v1::Sandbox::phase, v1::SANDBOX_PHASE_FAILED)));

  absl::StatusOr<v1::Session> replaced = store_->ReplaceSessionSandbox(
      "5e550001", "a0000001", replacement, WebTopology(), PlaceWhileRoom);
  ASSERT_OK(replaced);
  EXPECT_EQ(replaced->candidates(0).sandbox_id(), "b0000001");
  EXPECT_EQ(replaced->candidates(0).replacements(), 1u);
  EXPECT_EQ(replaced->candidates(1).sandbox_id(), "a0000002");
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_THAT(store_->GetSession("5e550001"),
              IsOkAndHolds(::testing::Property(&v1::Session::candidates,
                                               ::testing::Contains(::testing::Property(
                                                   &v1::SessionCandidate::sandbox_id, "b0000001")))));
  absl::StatusOr<v1::Sandbox> failed = store_->GetSandbox("a0000001");
  ASSERT_OK(failed);
  EXPECT_EQ(failed->phase(), v1::SANDBOX_PHASE_DESTROYED);
  EXPECT_THAT(failed->message(), HasSubstr("disk broke"));
  EXPECT_THAT(store_->GetSandbox("b0000001"),
              IsOkAndHolds(::testing::Property(&v1::Sandbox::host_id, "h1")));
  // Twice: the failed sandbox is no longer the candidate's.
  EXPECT_THAT(store_->ReplaceSessionSandbox("5e550001", "a0000001", replacement, WebTopology(),
                                            PlaceWhileRoom),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace labrack::controller
