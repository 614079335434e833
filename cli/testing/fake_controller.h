// An in-memory LabController for labrackctl's tests, served on 127.0.0.1 port 0: hosts,
// images, topologies and sandboxes in maps; a thread that walks new sandboxes through
// PROVISIONING to READY (or FAILED) with events; a console that echoes. Only the RPCs the
// CLI uses. Thread-safe.
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

  // How often `method` ("ApplyTopology", ...) was called.
  int calls(const std::string& method) const;
  std::vector<v1::CreateSandboxRequest> create_requests() const;
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
