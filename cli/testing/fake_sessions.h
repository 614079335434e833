// The session half of FakeController: sessions in a map, a thread per session that makes
// one candidate's sandbox READY (or FAILED) every step until all are settled, EndSession
// through ENDING to ENDED with a report, and WatchSession streaming every change. The
// FakeControllerService forwards the session RPCs here. Thread-safe.
#ifndef LABRACK_CLI_TESTING_FAKE_SESSIONS_H_
#define LABRACK_CLI_TESTING_FAKE_SESSIONS_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "labrack/v1/controller.grpc.pb.h"

namespace labrack::cli::testing {

class FakeSessions {
 public:
  FakeSessions() = default;
  // Stop()s.
  ~FakeSessions();
  FakeSessions(const FakeSessions&) = delete;
  FakeSessions& operator=(const FakeSessions&) = delete;

  // Ends open streams and joins the threads; the RPCs below then answer at once.
  void Stop();

  // CreateSession for a topology as stored (nullptr: unknown, NOT_FOUND); `fail_all_with`
  // non-empty fails every candidate's sandbox with that message. A repeated request_id
  // returns the first session.
  grpc::Status Create(const v1::CreateSessionRequest& req, const v1::TopologyRecord* topology,
                      const std::string& fail_all_with, v1::Session* resp);
  // By id, else the most recent session of that name; NOT_FOUND otherwise.
  grpc::Status Get(const std::string& session, v1::Session* resp);
  // Without candidates, as labrack-controller sends them.
  grpc::Status List(const v1::ListSessionsRequest& req, v1::ListSessionsResponse* resp);
  grpc::Status End(const std::string& session, v1::Session* resp);
  grpc::Status Watch(grpc::ServerContext* ctx, const std::string& session,
                     grpc::ServerWriter<v1::Session>* writer);

  void Add(const v1::Session& session);
  void FailCandidate(const std::string& candidate, const std::string& message);
  void FailNextCreates(int n);
  void SetLeftovers(const std::vector<std::string>& leftovers);
  void SetStreamLimit(int snapshots);
  std::vector<v1::CreateSessionRequest> creates() const;

 private:
  v1::Session* Find(const std::string& session) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Marks `s` changed: updated_at, and a wake-up for every stream.
  void Touch(v1::Session& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs `step` on the session every kStep on a thread of its own while it returns true.
  void Every(const std::string& id, std::function<bool(v1::Session&)> step)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // One candidate's sandbox settled per step; READY when all are READY.
  bool ProvisionStep(v1::Session& s, const std::string& fail_all_with)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // ENDING: frozen, then evidence collected; then ENDED with the report.
  bool EndStep(v1::Session& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::map<std::string, v1::Session> sessions_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> order_ ABSL_GUARDED_BY(mu_);  // ids, oldest first
  std::vector<v1::CreateSessionRequest> creates_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> fail_candidates_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> leftovers_ ABSL_GUARDED_BY(mu_);
  int fail_creates_ ABSL_GUARDED_BY(mu_) = 0;
  int stream_limit_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t changes_ ABSL_GUARDED_BY(mu_) = 0;
  int next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
};

}  // namespace labrack::cli::testing

#endif  // LABRACK_CLI_TESTING_FAKE_SESSIONS_H_
