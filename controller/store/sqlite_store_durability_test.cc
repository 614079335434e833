// What the store promises across restarts, crashes, schema versions and concurrent writers:
// reopening keeps everything, an acknowledged create survives kill -9, a newer schema is
// refused, and concurrent creates never oversubscribe a host.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "controller/store/sqlite_handle.h"
#include "controller/store/sqlite_store.h"
#include "controller/store/store_test_fixture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace labrack::controller {
namespace {

using ::labrack::testing::IsOkAndHolds;
using ::labrack::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class StoreDurability : public StoreTest {};

TEST_F(StoreDurability, ReopenKeepsHostsTopologiesSandboxesAndEvents) {
  ASSERT_NO_FATAL_FAILURE(AddHost("h1", 8192));
  ASSERT_OK(store_->SetDrained("h1", true));
  ASSERT_OK(store_->PutTopology(WebTopology(), Now()));
  ASSERT_OK(
      store_->CreateSandbox(NewSandbox("0000000a", 1024, "req-1"), WebTopology(), PlaceOn("h1")));
  ASSERT_NO_FATAL_FAILURE(Reopen());

  absl::StatusOr<HostRecord> host = store_->GetHost("h1");
  ASSERT_OK(host);
  EXPECT_TRUE(host->host.drained());
  EXPECT_EQ(host->host.reserved().memory_mib(), 1024u);
  EXPECT_THAT(store_->GetTopology("web", 0),
              IsOkAndHolds(::testing::Property(&v1::TopologyRecord::version, 1u)));
  absl::StatusOr<v1::Sandbox> sandbox = store_->GetSandbox("0000000a");
  ASSERT_OK(sandbox);
  EXPECT_EQ(sandbox->host_id(), "h1");
  EXPECT_OK(store_->GetSandboxTopology("0000000a"));
  EXPECT_THAT(store_->ListEvents(0, "", 0), IsOkAndHolds(SizeIs(1)));
  // The request id is still known, so a retried create finds the sandbox.
  absl::StatusOr<v1::Sandbox> retried =
      store_->CreateSandbox(NewSandbox("0000000b", 1024, "req-1"), WebTopology(), PlaceOn("h1"));
  ASSERT_OK(retried);
  EXPECT_EQ(retried->sandbox_id(), "0000000a");
  // Seqs continue after the last one.
  EXPECT_THAT(store_->AppendEvent(v1::Event()), IsOkAndHolds(2u));
}

TEST_F(StoreDurability, UsesTheWalJournal) {
  absl::StatusOr<SqliteDb> raw = OpenSqlite(path_, absl::Seconds(1));
  ASSERT_OK(raw);
  absl::StatusOr<Statement> mode = Statement::Prepare(raw->get(), "PRAGMA journal_mode", "mode");
  ASSERT_OK(mode);
  ASSERT_THAT(mode->Step(), IsOkAndHolds(true));
  EXPECT_EQ(mode->ColumnText(0), "wal");
}

TEST_F(StoreDurability, RefusesADatabaseFromANewerSchema) {
  store_.reset();
  {
    absl::StatusOr<SqliteDb> raw = OpenSqlite(path_, absl::Seconds(1));
    ASSERT_OK(raw);
    ASSERT_OK(ExecSql(raw->get(), "PRAGMA user_version = 999", "pretend to be newer"));
  }
  EXPECT_THAT(SqliteStore::Open(path_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       ::testing::AllOf(HasSubstr("999"), HasSubstr("newer"))));
}

// Picks the first host (by id) with enough free memory, as a scheduler would.
absl::StatusOr<std::string> FirstWithFreeMemory(const std::vector<HostRecord>& hosts,
                                                uint64_t memory_mib) {
  for (const HostRecord& h : hosts) {
    if (h.host.total().memory_mib() - h.host.reserved().memory_mib() >= memory_mib) {
      return h.host.host_id();
    }
  }
  return absl::ResourceExhaustedError("no host has the memory");
}

TEST_F(StoreDurability, ConcurrentCreatesNeverOversubscribeAHost) {
  // 8 + 16 + 4 sandboxes of 512 MiB fit; 160 are asked for.
  ASSERT_NO_FATAL_FAILURE(AddHost("h1", 4096));
  ASSERT_NO_FATAL_FAILURE(AddHost("h2", 8192));
  ASSERT_NO_FATAL_FAILURE(AddHost("h3", 2048));
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20;
  std::atomic<int> created{0}, exhausted{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto result = store_->CreateSandbox(
            NewSandbox(absl::StrFormat("%08x", t * 1000 + i)), WebTopology(),
            [](const std::vector<HostRecord>& hosts) { return FirstWithFreeMemory(hosts, 512); });
        if (result.ok()) {
          ++created;
        } else if (absl::IsResourceExhausted(result.status())) {
          ++exhausted;
        } else {
          ++other;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();

  EXPECT_EQ(created.load(), 28);
  EXPECT_EQ(exhausted.load(), kThreads * kPerThread - 28);
  EXPECT_EQ(other.load(), 0);
  absl::StatusOr<std::vector<HostRecord>> hosts = store_->ListHosts();
  ASSERT_OK(hosts);
  for (const HostRecord& h : *hosts) {
    EXPECT_EQ(h.host.reserved().memory_mib(), h.host.total().memory_mib()) << h.host.host_id();
  }
  EXPECT_THAT(store_->ListSandboxes({}), IsOkAndHolds(SizeIs(28)));
}

// The child's side of the kill -9 test: creates sandboxes until killed and reports each id
// on `fd` only after CreateSandbox returned OK. Never returns.
[[noreturn]] void CreateUntilKilled(const std::string& path, int fd) {
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path);
  if (!store.ok()) _exit(2);
  for (int i = 0;; ++i) {
    std::string id = absl::StrFormat("%08x", i);
    if (!(*store)->CreateSandbox(NewSandbox(id), WebTopology(), PlaceOn("h1")).ok()) _exit(3);
    std::string line = id + "\n";
    if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(4);
  }
}

// Reads lines from `fd` until `want` arrived (then returns), EOF, or 60 s pass.
void ReadLines(int fd, size_t want, std::string& buffer, std::vector<std::string>& lines) {
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (lines.size() < want && absl::Now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 1000) <= 0) continue;
    char chunk[4096];
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n <= 0) return;
    buffer.append(chunk, n);
    size_t end;
    while ((end = buffer.find('\n')) != std::string::npos) {
      lines.push_back(buffer.substr(0, end));
      buffer.erase(0, end + 1);
    }
  }
}

TEST_F(StoreDurability, EveryAcknowledgedCreateSurvivesKill9) {
  ASSERT_NO_FATAL_FAILURE(AddHost("h1", 1 << 30));
  store_.reset();  // a connection must not cross fork()
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    CreateUntilKilled(path_, fds[1]);
  }
  close(fds[1]);
  std::string buffer;
  std::vector<std::string> acknowledged;
  ReadLines(fds[0], 40, buffer, acknowledged);
  kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ReadLines(fds[0], SIZE_MAX, buffer, acknowledged);  // what it wrote before dying
  close(fds[0]);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  ASSERT_GE(acknowledged.size(), 40u);

  ASSERT_NO_FATAL_FAILURE(Reopen());
  for (const std::string& id : acknowledged) {
    EXPECT_OK(store_->GetSandbox(id)) << id;
  }
  absl::StatusOr<std::vector<v1::Sandbox>> all = store_->ListSandboxes({});
  ASSERT_OK(all);
  EXPECT_GE(all->size(), acknowledged.size());  // at most one more, committed but unreported
  EXPECT_LE(all->size(), acknowledged.size() + 1);
}

}  // namespace
}  // namespace labrack::controller
