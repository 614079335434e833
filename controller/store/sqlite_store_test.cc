// What callers of the store rely on: hosts and their reservations, topology versions,
// sandbox creation, listing and updates, and the event log. Each test uses its own database.
#include "controller/store/sqlite_store.h"

#include <google/protobuf/util/time_util.h>

#include <thread>

#include "controller/store/store_test_fixture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace labrack::controller {
namespace {

using ::google::protobuf::util::TimeUtil;
using ::labrack::testing::IsOk;
using ::labrack::testing::IsOkAndHolds;
using ::labrack::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::vector<std::string> IdsOf(const absl::StatusOr<std::vector<v1::Sandbox>>& sandboxes) {
  EXPECT_OK(sandboxes);
  std::vector<std::string> ids;
  if (sandboxes.ok()) {
    for (const v1::Sandbox& s : *sandboxes) ids.push_back(s.sandbox_id());
  }
  return ids;
}

MutateFn SetPhase(v1::SandboxPhase phase) {
  return [phase](v1::Sandbox& s) {
    s.set_phase(phase);
    return absl::OkStatus();
  };
}

// --- hosts

class HostStore : public StoreTest {};

TEST_F(HostStore, ReportsTheInventoryAndKeepsDrainedAcrossRegistrations) {
  auto inventory = ParseTextProto<v1::Inventory>(R"pb(
    total { vcpus: 8 memory_mib: 16384 disk_mib: 100000 }
    images {
      name: "tiny"
      version: "3"
      artifacts { kind: ARTIFACT_KIND_KERNEL sha256: "kkk" }
      artifacts { kind: ARTIFACT_KIND_DISK sha256: "ddd" }
    }
    sandboxes { sandbox_id: "0000000a" }
    sandboxes { sandbox_id: "0000000b" }
    domain_type: "kvm"
    capabilities: "nested"
  )pb");
  ASSERT_OK(store_->UpsertHost("h1", "10.0.0.1:7443", inventory, Now()));
  ASSERT_OK(store_->SetDrained("h1", true));
  Advance(absl::Seconds(5));
  ASSERT_OK(store_->UpsertHost("h1", "10.0.0.9:7443", inventory, Now()));

  absl::StatusOr<HostRecord> record = store_->GetHost("h1");
  ASSERT_OK(record);
  const v1::Host& host = record->host;
  EXPECT_EQ(host.address(), "10.0.0.9:7443");
  EXPECT_TRUE(host.drained());
  EXPECT_EQ(host.total().memory_mib(), 16384u);
  EXPECT_THAT(host.images(), ElementsAre("tiny@ddd"));
  EXPECT_EQ(host.domain_type(), "kvm");
  EXPECT_THAT(host.capabilities(), ElementsAre("nested"));
  EXPECT_EQ(host.reported_sandboxes(), 2u);
  EXPECT_EQ(host.sandboxes(), 0u);
  EXPECT_EQ(host.health(), v1::HOST_HEALTH_UNSPECIFIED);
  EXPECT_EQ(TimeUtil::TimestampToMicroseconds(host.last_heartbeat()), absl::ToUnixMicros(Now()));
  EXPECT_EQ(record->inventory.images_size(), 1);
}

TEST_F(HostStore, HeartbeatUpdatesTheInventoryAndTime) {
  AddHost("h1", 4096);
  Advance(absl::Seconds(10));
  auto inventory = ParseTextProto<v1::Inventory>(R"pb(total { memory_mib: 8192 })pb");
  ASSERT_OK(store_->RecordHeartbeat("h1", inventory, Now()));
  absl::StatusOr<HostRecord> record = store_->GetHost("h1");
  ASSERT_OK(record);
  EXPECT_EQ(record->host.total().memory_mib(), 8192u);
  EXPECT_EQ(TimeUtil::TimestampToMicroseconds(record->host.last_heartbeat()),
            absl::ToUnixMicros(Now()));
}

TEST_F(HostStore, UnknownHostsAreNotFound) {
  EXPECT_THAT(store_->RecordHeartbeat("ghost", v1::Inventory(), Now()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("ghost")));
  EXPECT_THAT(store_->GetHost("ghost"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->GetHost(""), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->SetDrained("ghost", true), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(HostStore, ListsHostsSortedById) {
  AddHost("h2", 1024);
  AddHost("h1", 1024);
  absl::StatusOr<std::vector<HostRecord>> hosts = store_->ListHosts();
  ASSERT_OK(hosts);
  ASSERT_THAT(*hosts, SizeIs(2));
  EXPECT_EQ((*hosts)[0].host.host_id(), "h1");
  EXPECT_EQ((*hosts)[1].host.host_id(), "h2");
}

TEST_F(HostStore, DestroyedAndFailedSandboxesReleaseTheirReservation) {
  AddHost("h1", 4096);
  v1::Sandbox unspecified = NewSandbox("00000004");
  unspecified.clear_phase();  // a phase nobody set yet still holds capacity
  for (const v1::Sandbox& s :
       {NewSandbox("00000001"), NewSandbox("00000002"), NewSandbox("00000003"), unspecified}) {
    ASSERT_OK(store_->CreateSandbox(s, WebTopology(), PlaceOn("h1")));
  }
  absl::StatusOr<HostRecord> before = store_->GetHost("h1");
  ASSERT_OK(before);
  EXPECT_EQ(before->host.reserved().memory_mib(), 4 * 512u);
  EXPECT_EQ(before->host.reserved().vcpus(), 4u);
  EXPECT_EQ(before->host.sandboxes(), 4u);

  ASSERT_OK(store_->UpdateSandbox("00000001", SetPhase(v1::SANDBOX_PHASE_DESTROYED)));
  ASSERT_OK(store_->UpdateSandbox("00000002", SetPhase(v1::SANDBOX_PHASE_FAILED)));
  ASSERT_OK(store_->UpdateSandbox("00000003", SetPhase(v1::SANDBOX_PHASE_DESTROYING)));
  absl::StatusOr<HostRecord> after = store_->GetHost("h1");
  ASSERT_OK(after);
  EXPECT_EQ(after->host.reserved().memory_mib(), 2 * 512u);
  EXPECT_EQ(after->host.reserved().disk_mib(), 2 * 1024u);
  EXPECT_EQ(after->host.sandboxes(), 2u);
}

// --- topologies

class TopologyStore : public StoreTest {};

TEST_F(TopologyStore, IdenticalContentKeepsItsVersionAndChangedContentGetsTheNext) {
  absl::StatusOr<v1::TopologyRecord> first = store_->PutTopology(WebTopology(), Now());
  ASSERT_OK(first);
  EXPECT_EQ(first->version(), 1u);
  EXPECT_THAT(first->sha256(), SizeIs(64));

  Advance(absl::Minutes(1));
  absl::StatusOr<v1::TopologyRecord> same = store_->PutTopology(WebTopology(), Now());
  ASSERT_OK(same);
  EXPECT_EQ(same->version(), 1u);
  EXPECT_EQ(same->applied_at(), first->applied_at());

  v1::Topology changed = WebTopology();
  changed.mutable_nodes(0)->set_memory_mib(1024);
  absl::StatusOr<v1::TopologyRecord> next = store_->PutTopology(changed, Now());
  ASSERT_OK(next);
  EXPECT_EQ(next->version(), 2u);
  EXPECT_NE(next->sha256(), first->sha256());
  EXPECT_EQ(TimeUtil::TimestampToMicroseconds(next->applied_at()), absl::ToUnixMicros(Now()));
}

TEST_F(TopologyStore, VersionZeroIsTheLatestAndUnknownIsNotFound) {
  v1::Topology changed = WebTopology();
  changed.set_description("v2");
  ASSERT_OK(store_->PutTopology(WebTopology(), Now()));
  ASSERT_OK(store_->PutTopology(changed, Now()));

  absl::StatusOr<v1::TopologyRecord> latest = store_->GetTopology("web", 0);
  ASSERT_OK(latest);
  EXPECT_EQ(latest->version(), 2u);
  EXPECT_EQ(latest->topology().description(), "v2");
  absl::StatusOr<v1::TopologyRecord> first = store_->GetTopology("web", 1);
  ASSERT_OK(first);
  EXPECT_EQ(first->topology().description(), "");
  EXPECT_THAT(store_->GetTopology("web", 3),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("version 3")));
  EXPECT_THAT(store_->GetTopology("db", 0), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(TopologyStore, ListsTheLatestVersionOfEachNameSortedByName) {
  v1::Topology web2 = WebTopology();
  web2.set_description("v2");
  v1::Topology db = WebTopology();
  db.set_name("db");
  ASSERT_OK(store_->PutTopology(WebTopology(), Now()));
  ASSERT_OK(store_->PutTopology(web2, Now()));
  ASSERT_OK(store_->PutTopology(db, Now()));
  absl::StatusOr<std::vector<v1::TopologyRecord>> list = store_->ListTopologies();
  ASSERT_OK(list);
  ASSERT_THAT(*list, SizeIs(2));
  EXPECT_EQ((*list)[0].topology().name(), "db");
  EXPECT_EQ((*list)[1].topology().name(), "web");
  EXPECT_EQ((*list)[1].version(), 2u);
}

TEST_F(TopologyStore, RefusesATopologyWithoutName) {
  EXPECT_THAT(store_->PutTopology(v1::Topology(), Now()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("name")));
}

// --- sandboxes

class SandboxStore : public StoreTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(StoreTest::SetUp());
    ASSERT_NO_FATAL_FAILURE(AddHost("h1", 8192));
    ASSERT_NO_FATAL_FAILURE(AddHost("h2", 8192));
  }
};

TEST_F(SandboxStore, CreatePlacesStampsAndKeepsTheTopologySnapshot) {
  absl::StatusOr<v1::Sandbox> created =
      store_->CreateSandbox(NewSandbox("0000000a"), WebTopology(), PlaceOn("h2"));
  ASSERT_OK(created);
  EXPECT_EQ(created->host_id(), "h2");
  EXPECT_EQ(TimeUtil::TimestampToMicroseconds(created->created_at()), absl::ToUnixMicros(Now()));
  EXPECT_EQ(created->updated_at(), created->created_at());

  absl::StatusOr<v1::Sandbox> read = store_->GetSandbox("0000000a");
  ASSERT_OK(read);
  EXPECT_EQ(read->SerializeAsString(), created->SerializeAsString());
  absl::StatusOr<v1::Topology> snapshot = store_->GetSandboxTopology("0000000a");
  ASSERT_OK(snapshot);
  EXPECT_EQ(snapshot->nodes(0).nics(0).address(), "10.0.0.2/24");

  absl::StatusOr<std::vector<v1::Event>> events = store_->ListEvents(0, "", 0);
  ASSERT_OK(events);
  ASSERT_THAT(*events, SizeIs(1));
  EXPECT_EQ((*events)[0].kind(), v1::EVENT_KIND_SANDBOX_PHASE);
  EXPECT_EQ((*events)[0].sandbox_id(), "0000000a");
  EXPECT_EQ((*events)[0].host_id(), "h2");
  EXPECT_EQ((*events)[0].phase(), v1::SANDBOX_PHASE_SCHEDULED);
}

TEST_F(SandboxStore, CreateKeepsACallerGivenCreationTime) {
  v1::Sandbox sandbox = NewSandbox("0000000a");
  *sandbox.mutable_created_at() = TimeUtil::SecondsToTimestamp(1000);
  absl::StatusOr<v1::Sandbox> created =
      store_->CreateSandbox(sandbox, WebTopology(), PlaceOn("h1"));
  ASSERT_OK(created);
  EXPECT_EQ(TimeUtil::TimestampToSeconds(created->created_at()), 1000);
}

TEST_F(SandboxStore, SameRequestIdReturnsTheFirstSandboxWithoutPlacing) {
  ASSERT_OK(
      store_->CreateSandbox(NewSandbox("0000000a", 512, "req-1"), WebTopology(), PlaceOn("h1")));
  bool placed = false;
  PlaceFn place = [&](const std::vector<HostRecord>&) -> absl::StatusOr<std::string> {
    placed = true;
    return "h2";
  };
  absl::StatusOr<v1::Sandbox> again =
      store_->CreateSandbox(NewSandbox("0000000b", 512, "req-1"), WebTopology(), place);
  ASSERT_OK(again);
  EXPECT_FALSE(placed);
  EXPECT_EQ(again->sandbox_id(), "0000000a");
  EXPECT_EQ(again->host_id(), "h1");
  EXPECT_THAT(store_->GetSandbox("0000000b"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->ListEvents(0, "", 0), IsOkAndHolds(SizeIs(1)));
}

TEST_F(SandboxStore, GetByRequestIdFindsTheSandboxThatCreateMade) {
  v1::Sandbox sandbox = NewSandbox("0000000a", 512, "req-1");
  (*sandbox.mutable_image_overrides())["debian-server"] = "tiny";
  ASSERT_OK(store_->CreateSandbox(sandbox, WebTopology(), PlaceOn("h1")));
  ASSERT_OK(store_->CreateSandbox(NewSandbox("0000000b"), WebTopology(), PlaceOn("h1")));
  absl::StatusOr<v1::Sandbox> found = store_->GetSandboxByRequestId("req-1");
  ASSERT_OK(found);
  EXPECT_EQ(found->sandbox_id(), "0000000a");
  EXPECT_EQ(found->image_overrides().at("debian-server"), "tiny");
  EXPECT_THAT(store_->GetSandboxByRequestId("req-2"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->GetSandboxByRequestId(""), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(SandboxStore, SandboxesWithoutRequestIdDoNotCollide) {
  ASSERT_OK(store_->CreateSandbox(NewSandbox("0000000a"), WebTopology(), PlaceOn("h1")));
  ASSERT_OK(store_->CreateSandbox(NewSandbox("0000000b"), WebTopology(), PlaceOn("h1")));
  EXPECT_THAT(IdsOf(store_->ListSandboxes({})), ElementsAre("0000000a", "0000000b"));
}

TEST_F(SandboxStore, PlacementErrorWritesNothing) {
  PlaceFn full = [](const std::vector<HostRecord>&) -> absl::StatusOr<std::string> {
    return absl::ResourceExhaustedError("no host can fit");
  };
  EXPECT_THAT(store_->CreateSandbox(NewSandbox("0000000a"), WebTopology(), full),
              StatusIs(absl::StatusCode::kResourceExhausted, "no host can fit"));
  EXPECT_THAT(store_->GetSandbox("0000000a"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->GetSandboxTopology("0000000a"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->ListEvents(0, "", 0), IsOkAndHolds(IsEmpty()));
  absl::StatusOr<HostRecord> host = store_->GetHost("h1");
  ASSERT_OK(host);
  EXPECT_EQ(host->host.sandboxes(), 0u);
}

TEST_F(SandboxStore, CreateSandboxesPlacesEachSeeingTheOnesBeforeItOrWritesNothing) {
  // `place` sees the reservations of the sandboxes placed before it in the same call.
  std::vector<uint32_t> seen;
  PlaceFn count = [&](const std::vector<HostRecord>& hosts) -> absl::StatusOr<std::string> {
    for (const HostRecord& h : hosts) {
      if (h.host.host_id() == "h1") seen.push_back(h.host.sandboxes());
    }
    if (seen.size() == 3) return absl::ResourceExhaustedError("the third does not fit");
    return std::string("h1");
  };
  EXPECT_THAT(store_->CreateSandboxes({NewSandbox("0000000a"), NewSandbox("0000000b"),
                                       NewSandbox("0000000c")},
                                      WebTopology(), count),
              StatusIs(absl::StatusCode::kResourceExhausted, "the third does not fit"));
  EXPECT_THAT(seen, ElementsAre(0u, 1u, 2u));
  EXPECT_THAT(store_->ListSandboxes({}), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(store_->ListEvents(0, "", 0), IsOkAndHolds(IsEmpty()));

  auto made = store_->CreateSandboxes(
      {NewSandbox("0000000a", 512, "class-0"), NewSandbox("0000000b", 512, "class-1")},
      WebTopology(), PlaceOn("h2"));
  ASSERT_OK(made);
  ASSERT_EQ(made->size(), 2u);
  EXPECT_EQ((*made)[1].sandbox_id(), "0000000b");
  EXPECT_EQ((*made)[1].host_id(), "h2");
  EXPECT_THAT(store_->GetSandboxTopology("0000000b"), IsOk());
  // The same request ids again: the same sandboxes, nothing placed.
  auto again = store_->CreateSandboxes(
      {NewSandbox("0000000c", 512, "class-0"), NewSandbox("0000000d", 512, "class-1")},
      WebTopology(), PlaceOn("h9"));
  ASSERT_OK(again);
  EXPECT_EQ((*again)[0].sandbox_id(), "0000000a");
  EXPECT_EQ((*again)[1].sandbox_id(), "0000000b");
  EXPECT_THAT(store_->ListSandboxes({}), IsOkAndHolds(SizeIs(2)));
}

TEST_F(SandboxStore, PlacementOnAnUnregisteredHostIsRefused) {
  EXPECT_THAT(store_->CreateSandbox(NewSandbox("0000000a"), WebTopology(), PlaceOn("h9")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("h9")));
  EXPECT_THAT(store_->ListSandboxes({}), IsOkAndHolds(IsEmpty()));
}

TEST_F(SandboxStore, DuplicateIdIsAlreadyExists) {
  ASSERT_OK(store_->CreateSandbox(NewSandbox("0000000a"), WebTopology(), PlaceOn("h1")));
  EXPECT_THAT(store_->CreateSandbox(NewSandbox("0000000a"), WebTopology(), PlaceOn("h2")),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(store_->CreateSandbox(NewSandbox(""), WebTopology(), PlaceOn("h2")),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(SandboxStore, ListFiltersByPhaseHostCandidateAndLabelsOldestFirst) {
  auto make = [&](const std::string& id, const std::string& host, const std::string& candidate,
                  const std::string& exam, int64_t created) {
    v1::Sandbox s = NewSandbox(id);
    s.set_candidate(candidate);
    (*s.mutable_labels())["exam"] = exam;
    *s.mutable_created_at() = TimeUtil::SecondsToTimestamp(created);
    ASSERT_OK(store_->CreateSandbox(s, WebTopology(), PlaceOn(host)));
  };
  make("0000000c", "h1", "alice", "rhcsa", 100);
  make("0000000b", "h2", "bob", "rhcsa", 200);
  make("0000000a", "h1", "bob", "lfcs", 300);
  ASSERT_OK(store_->UpdateSandbox("0000000b", SetPhase(v1::SANDBOX_PHASE_READY)));

  SandboxFilter ready, on_h1, of_bob, rhcsa, all_three, no_match;
  ready.phase = v1::SANDBOX_PHASE_READY;
  on_h1.host_id = "h1";
  of_bob.candidate = "bob";
  rhcsa.labels = {{"exam", "rhcsa"}};
  all_three.host_id = "h1";
  all_three.candidate = "bob";
  all_three.labels = {{"exam", "lfcs"}};
  no_match.labels = {{"exam", "rhcsa"}, {"x", "y"}};

  EXPECT_THAT(IdsOf(store_->ListSandboxes({})), ElementsAre("0000000c", "0000000b", "0000000a"));
  EXPECT_THAT(IdsOf(store_->ListSandboxes(ready)), ElementsAre("0000000b"));
  EXPECT_THAT(IdsOf(store_->ListSandboxes(on_h1)), ElementsAre("0000000c", "0000000a"));
  EXPECT_THAT(IdsOf(store_->ListSandboxes(of_bob)), ElementsAre("0000000b", "0000000a"));
  EXPECT_THAT(IdsOf(store_->ListSandboxes(rhcsa)), ElementsAre("0000000c", "0000000b"));
  EXPECT_THAT(IdsOf(store_->ListSandboxes(all_three)), ElementsAre("0000000a"));
  EXPECT_THAT(IdsOf(store_->ListSandboxes(no_match)), IsEmpty());
}

TEST_F(SandboxStore, ListHidesDestroyedUnlessAsked) {
  ASSERT_OK(store_->CreateSandbox(NewSandbox("0000000a"), WebTopology(), PlaceOn("h1")));
  ASSERT_OK(store_->CreateSandbox(NewSandbox("0000000b"), WebTopology(), PlaceOn("h1")));
  ASSERT_OK(store_->UpdateSandbox("0000000a", SetPhase(v1::SANDBOX_PHASE_DESTROYED)));
  ASSERT_OK(store_->UpdateSandbox("0000000b", SetPhase(v1::SANDBOX_PHASE_FAILED)));

  SandboxFilter with_destroyed, destroyed;
  with_destroyed.include_destroyed = true;
  destroyed.phase = v1::SANDBOX_PHASE_DESTROYED;
  EXPECT_THAT(IdsOf(store_->ListSandboxes({})), ElementsAre("0000000b"));  // FAILED stays
  EXPECT_THAT(IdsOf(store_->ListSandboxes(with_destroyed)), ElementsAre("0000000a", "0000000b"));
  EXPECT_THAT(IdsOf(store_->ListSandboxes(destroyed)), ElementsAre("0000000a"));
}

TEST_F(SandboxStore, UpdateAppendsAnEventOnlyWhenPhaseOrGenerationChanged) {
  ASSERT_OK(store_->CreateSandbox(NewSandbox("0000000a"), WebTopology(), PlaceOn("h1")));
  Advance(absl::Seconds(1));
  absl::StatusOr<v1::Sandbox> message_only = store_->UpdateSandbox("0000000a", [](v1::Sandbox& s) {
    s.set_message("2 of 3 nodes ready");
    return absl::OkStatus();
  });
  ASSERT_OK(message_only);
  EXPECT_EQ(TimeUtil::TimestampToMicroseconds(message_only->updated_at()),
            absl::ToUnixMicros(Now()));
  ASSERT_OK(store_->UpdateSandbox("0000000a", SetPhase(v1::SANDBOX_PHASE_READY)));
  ASSERT_OK(store_->UpdateSandbox("0000000a", [](v1::Sandbox& s) {
    s.set_generation(s.generation() + 1);
    return absl::OkStatus();
  }));

  absl::StatusOr<std::vector<v1::Event>> events = store_->ListEvents(0, "0000000a", 0);
  ASSERT_OK(events);
  ASSERT_THAT(*events, SizeIs(3));  // create, READY, generation 1
  EXPECT_EQ((*events)[1].phase(), v1::SANDBOX_PHASE_READY);
  EXPECT_EQ((*events)[1].message(), "2 of 3 nodes ready");
  EXPECT_EQ((*events)[2].generation(), 1u);
}

TEST_F(SandboxStore, UpdateThatChangesNothingWritesNothing) {
  absl::StatusOr<v1::Sandbox> created =
      store_->CreateSandbox(NewSandbox("0000000a"), WebTopology(), PlaceOn("h1"));
  ASSERT_OK(created);
  Advance(absl::Seconds(1));
  absl::StatusOr<v1::Sandbox> same =
      store_->UpdateSandbox("0000000a", [](v1::Sandbox&) { return absl::OkStatus(); });
  ASSERT_OK(same);
  EXPECT_EQ(same->updated_at(), created->updated_at());
  EXPECT_THAT(store_->ListEvents(0, "", 0), IsOkAndHolds(SizeIs(1)));
}

TEST_F(SandboxStore, MutateErrorAbortsWithNothingWritten) {
  ASSERT_OK(store_->CreateSandbox(NewSandbox("0000000a"), WebTopology(), PlaceOn("h1")));
  EXPECT_THAT(store_->UpdateSandbox("0000000a",
                                    [](v1::Sandbox& s) {
                                      s.set_phase(v1::SANDBOX_PHASE_RESETTING);
                                      return absl::FailedPreconditionError("not READY");
                                    }),
              StatusIs(absl::StatusCode::kFailedPrecondition, "not READY"));
  absl::StatusOr<v1::Sandbox> read = store_->GetSandbox("0000000a");
  ASSERT_OK(read);
  EXPECT_EQ(read->phase(), v1::SANDBOX_PHASE_SCHEDULED);
  EXPECT_THAT(store_->ListEvents(0, "", 0), IsOkAndHolds(SizeIs(1)));
}

TEST_F(SandboxStore, UpdateOfAnUnknownSandboxIsNotFoundAndIdsArePermanent) {
  EXPECT_THAT(store_->UpdateSandbox("0000000f", SetPhase(v1::SANDBOX_PHASE_READY)),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("0000000f")));
  EXPECT_THAT(store_->GetSandboxTopology("0000000f"), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(store_->CreateSandbox(NewSandbox("0000000a"), WebTopology(), PlaceOn("h1")));
  EXPECT_THAT(store_->UpdateSandbox("0000000a",
                                    [](v1::Sandbox& s) {
                                      s.set_sandbox_id("0000000b");
                                      return absl::OkStatus();
                                    }),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// --- events

class EventStore : public StoreTest {};

v1::Event HostEvent(v1::EventKind kind, const std::string& host_id) {
  v1::Event event;
  event.set_kind(kind);
  event.set_host_id(host_id);
  return event;
}

TEST_F(EventStore, ListsAfterASeqForOneSandboxAndUpToALimit) {
  ASSERT_NO_FATAL_FAILURE(AddHost("h1", 8192));
  ASSERT_THAT(store_->AppendEvent(HostEvent(v1::EVENT_KIND_HOST_REGISTERED, "h1")),
              IsOkAndHolds(1u));
  ASSERT_OK(store_->CreateSandbox(NewSandbox("0000000a"), WebTopology(), PlaceOn("h1")));
  ASSERT_OK(store_->CreateSandbox(NewSandbox("0000000b"), WebTopology(), PlaceOn("h1")));
  ASSERT_OK(store_->UpdateSandbox("0000000a", SetPhase(v1::SANDBOX_PHASE_READY)));

  absl::StatusOr<std::vector<v1::Event>> all = store_->ListEvents(0, "", 0);
  ASSERT_OK(all);
  ASSERT_THAT(*all, SizeIs(4));
  for (size_t i = 0; i < all->size(); ++i) EXPECT_EQ((*all)[i].seq(), i + 1);
  EXPECT_EQ(TimeUtil::TimestampToMicroseconds((*all)[0].time()), absl::ToUnixMicros(Now()));

  absl::StatusOr<std::vector<v1::Event>> of_a = store_->ListEvents(0, "0000000a", 0);
  ASSERT_OK(of_a);
  ASSERT_THAT(*of_a, SizeIs(2));
  EXPECT_EQ((*of_a)[0].seq(), 2u);
  EXPECT_EQ((*of_a)[1].seq(), 4u);

  absl::StatusOr<std::vector<v1::Event>> after = store_->ListEvents(2, "", 1);
  ASSERT_OK(after);
  ASSERT_THAT(*after, SizeIs(1));
  EXPECT_EQ((*after)[0].seq(), 3u);
  EXPECT_THAT(store_->ListEvents(4, "", 0), IsOkAndHolds(IsEmpty()));
}

TEST_F(EventStore, WaitReturnsWhenAnotherThreadAppends) {
  std::thread appender([&] {
    absl::SleepFor(absl::Milliseconds(50));
    ASSERT_OK(store_->AppendEvent(HostEvent(v1::EVENT_KIND_HOST_DRAINED, "h1")));
  });
  const absl::Time start = absl::Now();
  store_->WaitForEvent(0, absl::Now() + absl::Seconds(30));
  const absl::Duration waited = absl::Now() - start;
  appender.join();
  EXPECT_LT(waited, absl::Seconds(10));
  EXPECT_THAT(store_->ListEvents(0, "", 0), IsOkAndHolds(SizeIs(1)));
}

TEST_F(EventStore, WaitReturnsAtTheDeadlineWhenNothingHappens) {
  ASSERT_OK(store_->AppendEvent(HostEvent(v1::EVENT_KIND_HOST_DRAINED, "h1")));
  const absl::Time start = absl::Now();
  store_->WaitForEvent(1, start + absl::Milliseconds(200));
  const absl::Duration waited = absl::Now() - start;
  EXPECT_GE(waited, absl::Milliseconds(190));
  EXPECT_LT(waited, absl::Seconds(10));
}

TEST_F(EventStore, WaitReturnsAtOnceForAnEventAlreadyStoredBeforeReopening) {
  ASSERT_OK(store_->AppendEvent(HostEvent(v1::EVENT_KIND_HOST_DRAINED, "h1")));
  ASSERT_NO_FATAL_FAILURE(Reopen());
  const absl::Time start = absl::Now();
  store_->WaitForEvent(0, start + absl::Seconds(30));
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

}  // namespace
}  // namespace labrack::controller
