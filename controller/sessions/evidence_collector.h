// Writes one candidate's evidence folder: every file the worker lists for the frozen
// sandbox (disk volumes, serial logs), copied in chunks over the worker API, then the
// sandbox's event history (events.jsonl) and record (sandbox.json, without its console
// password), then manifest.json with the sha256 of every other file. The folder is built
// under "<dir>.partial" and renamed to `dir` when complete, so a folder named `dir` is
// always whole; a second collection (e.g. after a restart) starts over. Thread-compatible.
#ifndef LABRACK_CONTROLLER_SESSIONS_EVIDENCE_COLLECTOR_H_
#define LABRACK_CONTROLLER_SESSIONS_EVIDENCE_COLLECTOR_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/workers/worker_client.h"
#include "labrack/v1/controller.pb.h"

namespace labrack::controller {

struct EvidenceSource {
  const v1::Session* session = nullptr;
  const v1::Sandbox* sandbox = nullptr;
  std::vector<v1::Event> events;
  // The worker holding the frozen sandbox; nullptr when there is none to ask (the sandbox
  // failed, was never built, or its host is unreachable): the folder then holds the
  // controller's records only.
  WorkerClient* worker = nullptr;
};

// The manifest as written. Errors name the file that could not be read or written; the
// partial folder is then removed.
absl::StatusOr<v1::EvidenceManifest> CollectEvidence(const EvidenceSource& source,
                                                     const std::string& dir);

// A message as the evidence files hold it: protobuf JSON with the .proto field names,
// indented when `pretty`, else on one line.
absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message, bool pretty);

// Checks a folder against its manifest.json: every listed file exists with the listed size
// and sha256, and no other file is there. DataLoss naming the first mismatch.
absl::Status VerifyEvidence(const std::string& dir);

}  // namespace labrack::controller

#endif  // LABRACK_CONTROLLER_SESSIONS_EVIDENCE_COLLECTOR_H_
