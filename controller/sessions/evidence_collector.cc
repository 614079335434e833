#include "controller/sessions/evidence_collector.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"

namespace labrack::controller {
namespace {

namespace fs = std::filesystem;
using google::protobuf::util::TimeUtil;

constexpr uint32_t kChunk = 1 << 20;
constexpr char kManifest[] = "manifest.json";

// Writes a file while hashing it.
class HashedFile {
 public:
  static absl::StatusOr<HashedFile> Open(const fs::path& path) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) return absl::InternalError(absl::StrCat("create ", path.parent_path().string(), ": ", ec.message()));
    HashedFile f(path);
    if (!f.out_) return absl::InternalError(absl::StrCat("create ", path.string()));
    return f;
  }
  void Write(const std::string& data) {
    out_.write(data.data(), static_cast<std::streamsize>(data.size()));
    hash_->Update(data);
    size_ += data.size();
  }
  // Flushes to disk; the sha256 and size of what was written.
  absl::StatusOr<std::pair<std::string, uint64_t>> Close() {
    out_.flush();
    if (!out_) return absl::InternalError(absl::StrCat("write ", path_.string(), " failed"));
    out_.close();
    return std::make_pair(hash_->HexDigest(), size_);
  }

 private:
  explicit HashedFile(fs::path path)
      : path_(std::move(path)), out_(path_, std::ios::binary | std::ios::trunc),
        hash_(std::make_unique<Sha256>()) {}
  fs::path path_;
  std::ofstream out_;
  std::unique_ptr<Sha256> hash_;
  uint64_t size_ = 0;
};

absl::Status AddFile(const fs::path& root, v1::EvidenceFile file, const std::string& content,
                     v1::EvidenceManifest& manifest) {
  ASSIGN_OR_RETURN(HashedFile out, HashedFile::Open(root / file.name()));
  out.Write(content);
  ASSIGN_OR_RETURN(auto written, out.Close());
  file.set_size_bytes(written.second);
  v1::EvidenceEntry& entry = *manifest.add_files();
  *entry.mutable_file() = std::move(file);
  entry.set_sha256(written.first);
  return absl::OkStatus();
}

// Copies one worker file; its size as listed must be what arrives.
absl::Status CopyFromWorker(const fs::path& root, const v1::Sandbox& sandbox,
                            const v1::EvidenceFile& file, WorkerClient& worker,
                            v1::EvidenceManifest& manifest) {
  ASSIGN_OR_RETURN(HashedFile out, HashedFile::Open(root / file.name()));
  uint64_t offset = 0;
  for (;;) {
    ASSIGN_OR_RETURN(std::string data,
                     worker.ReadEvidence(sandbox.sandbox_id(), file.name(), offset, kChunk));
    if (data.empty()) break;
    out.Write(data);
    offset += data.size();
  }
  ASSIGN_OR_RETURN(auto written, out.Close());
  if (written.second != file.size_bytes()) {
    return absl::DataLossError(absl::StrCat(file.name(), ": the worker listed ", file.size_bytes(),
                                            " bytes but sent ", written.second));
  }
  v1::EvidenceEntry& entry = *manifest.add_files();
  *entry.mutable_file() = file;
  entry.set_sha256(written.first);
  return absl::OkStatus();
}

absl::StatusOr<v1::EvidenceManifest> Collect(const EvidenceSource& source, const fs::path& root) {
  const v1::Sandbox& sandbox = *source.sandbox;
  v1::EvidenceManifest manifest;
  manifest.set_session_id(source.session->session_id());
  manifest.set_session_name(source.session->name());
  manifest.set_candidate(sandbox.candidate());
  manifest.set_sandbox_id(sandbox.sandbox_id());
  manifest.set_generation(sandbox.generation());
  manifest.set_topology(sandbox.topology());
  manifest.set_topology_version(sandbox.topology_version());
  manifest.set_host_id(sandbox.host_id());
  if (source.worker != nullptr) {
    ASSIGN_OR_RETURN(std::vector<v1::EvidenceFile> files,
                     source.worker->ListEvidence(sandbox.sandbox_id()));
    for (const v1::EvidenceFile& file : files) {
      fs::path target = (root / file.name()).lexically_normal();
      // The names come from the worker: keep them inside the folder whatever they say.
      if (file.name().empty() || file.name() == kManifest || file.name().front() == '/' ||
          target.string().rfind(root.string() + "/", 0) != 0) {
        return absl::DataLossError(
            absl::StrCat("the worker named an evidence file '", file.name(), "' outside the folder"));
      }
      RETURN_IF_ERROR(CopyFromWorker(root, sandbox, file, *source.worker, manifest));
    }
  }
  std::string events;
  for (const v1::Event& e : source.events) {
    ASSIGN_OR_RETURN(std::string line, ToJson(e, false));
    absl::StrAppend(&events, line, "\n");
  }
  v1::EvidenceFile events_file;
  events_file.set_name("events.jsonl");
  events_file.set_kind(v1::EVIDENCE_KIND_EVENTS);
  RETURN_IF_ERROR(AddFile(root, events_file, events, manifest));
  v1::Sandbox record = sandbox;
  record.clear_console_password();
  record.clear_console_password_hash();
  ASSIGN_OR_RETURN(std::string record_json, ToJson(record, true));
  v1::EvidenceFile record_file;
  record_file.set_name("sandbox.json");
  record_file.set_kind(v1::EVIDENCE_KIND_SANDBOX_RECORD);
  RETURN_IF_ERROR(AddFile(root, record_file, record_json, manifest));
  *manifest.mutable_collected_at() = TimeUtil::GetCurrentTime();
  ASSIGN_OR_RETURN(std::string manifest_json, ToJson(manifest, true));
  ASSIGN_OR_RETURN(HashedFile out, HashedFile::Open(root / kManifest));
  out.Write(manifest_json);
  RETURN_IF_ERROR(out.Close().status());
  return manifest;
}

}  // namespace

absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message, bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = pretty;
  options.preserve_proto_field_names = true;
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) return absl::InternalError(std::string(status.message()));
  return json;
}

absl::StatusOr<v1::EvidenceManifest> CollectEvidence(const EvidenceSource& source,
                                                     const std::string& dir) {
  const fs::path final_dir = fs::path(dir).lexically_normal();
  const fs::path partial = final_dir.string() + ".partial";
  std::error_code ec;
  fs::remove_all(partial, ec);
  fs::remove_all(final_dir, ec);
  absl::StatusOr<v1::EvidenceManifest> manifest = Collect(source, partial);
  if (manifest.ok()) {
    fs::rename(partial, final_dir, ec);
    if (ec) {
      manifest = absl::InternalError(
          absl::StrCat("rename ", partial.string(), " to ", final_dir.string(), ": ", ec.message()));
    }
  }
  if (!manifest.ok()) fs::remove_all(partial, ec);
  return manifest;
}

absl::Status VerifyEvidence(const std::string& dir) {
  const fs::path root(dir);
  std::ifstream in(root / kManifest);
  if (!in) return absl::DataLossError(absl::StrCat(dir, ": no ", kManifest));
  std::stringstream text;
  text << in.rdbuf();
  v1::EvidenceManifest manifest;
  if (!google::protobuf::util::JsonStringToMessage(text.str(), &manifest).ok()) {
    return absl::DataLossError(absl::StrCat(dir, "/", kManifest, " does not parse"));
  }
  std::set<std::string> listed{kManifest};
  for (const v1::EvidenceEntry& entry : manifest.files()) {
    const std::string path = (root / entry.file().name()).string();
    listed.insert(entry.file().name());
    absl::StatusOr<std::string> sha = Sha256OfFile(path);
    if (!sha.ok()) return absl::DataLossError(absl::StrCat(path, ": ", sha.status().message()));
    std::error_code ec;
    uint64_t size = fs::file_size(path, ec);
    if (*sha != entry.sha256() || size != entry.file().size_bytes()) {
      return absl::DataLossError(absl::StrCat(path, ": sha256 or size differs from the manifest"));
    }
  }
  for (const auto& f : fs::recursive_directory_iterator(root)) {
    if (!f.is_regular_file()) continue;
    std::string name = fs::relative(f.path(), root).string();
    if (!listed.contains(name)) {
      return absl::DataLossError(absl::StrCat(f.path().string(), ": not in the manifest"));
    }
  }
  return absl::OkStatus();
}

}  // namespace labrack::controller
