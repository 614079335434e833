// An in-memory LabController for labrackctl's tests, served on 127.0.0.1 port 0: hosts,
// images, topologies, sandboxes and sessions in maps; threads that walk new sandboxes
// through PROVISIONING to READY (or FAILED) with events, and a session's candidates to
// READY one by one and an ended session through ENDING to ENDED with a report; a console
// that echoes. Only the RPCs the CLI uses. Thread-safe.
#ifndef LABRACK_CLI_TESTING_FAKE_CONTROLLER_H_
#define LABRACK_CLI_TESTING_FAKE_CONTROLLER_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "labrack/v1/controller.grpc.pb.h"

namespace labrack::cli::testing {

class FakeControllerService;

// What one ImportImage call received.
struct ReceivedImage {
  v1::ImageManifest manifest;
  std::map<std::string, uint64_t> bytes_by_file;
  std::map<std::string, std::string> sha256_by_file;  // lowercase hex of what arrived
};

class FakeController {
 public:
  // Serves on 127.0.0.1 with a free port; nullptr if it cannot bind.
  static std::unique_ptr<FakeController> Start();
  // Stops serving (ending open streams) and joins the provisioning threads.
  ~FakeController();

  // "127.0.0.1:<port>"
  std::string address() const;

  void AddHost(const v1::Host& host);
  // Stored as version 1, as ApplyTopology would.
  void AddTopology(const v1::Topology& topology);
  void AddSandbox(const v1::Sandbox& sandbox);
  // Sandboxes created or reset from now on fail with `message` after their first node is
  // ready; empty: they become READY.
  void FailProvisioningWith(const std::string& message);
  // false: like labrack-controller, a console keeps streaming after the client's
  // half-close until the client cancels. true (default): it ends the call, like a worker.
  void SetConsoleEndsOnHalfClose(bool ends);

  // Stored as it is, for GetSession, ListSessions, WatchSession and EndSession.
  void AddSession(const v1::Session& session);
  // The sandbox of `candidate` in sessions created from now on fails with `message`
  // instead of becoming READY. (FailProvisioningWith fails every candidate.)
  void FailSessionCandidate(const std::string& candidate, const std::string& message);
  // The next `n` CreateSession calls are recorded, then answered UNAVAILABLE.
  void FailNextSessionCreates(int n);
  // What the report of a session ended from now on lists as left over (nothing_left is
  // false unless empty).
  void SetSessionLeftovers(const std::vector<std::string>& leftovers);
  // Each WatchSession call ends with UNAVAILABLE after `snapshots` snapshots (0: never),
  // as a stream broken by the network would.
  void SetSessionStreamLimit(int snapshots);

  // How often `method` ("ApplyTopology", ...) was called.
  int calls(const std::string& method) const;
  // The "authorization" metadata of the last ListHosts call ("" when it had none).
  std::string last_authorization() const;
  std::vector<v1::CreateSandboxRequest> create_requests() const;
  std::vector<v1::CreateSessionRequest> create_session_requests() const;
  std::vector<v1::Topology> applied_topologies() const;
  std::vector<v1::ApplyTopologyRequest> apply_requests() const;
  std::vector<ReceivedImage> received_images() const;
  // Every data byte console clients sent.
  std::string console_input() const;

 private:
  FakeController() = default;

  std::unique_ptr<FakeControllerService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace labrack::cli::testing

#endif  // LABRACK_CLI_TESTING_FAKE_CONTROLLER_H_
