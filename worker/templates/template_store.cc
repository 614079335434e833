#include "worker/templates/template_store.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "spdlog/spdlog.h"

namespace labrack::worker {
namespace fs = std::filesystem;
namespace {

constexpr char kMetaFile[] = "template.json";
constexpr char kStagingPrefix[] = ".staging-";

uint64_t FolderBytes(const std::string& folder) {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(folder, ec)) {
    if (f.is_regular_file(ec)) total += f.file_size(ec);
  }
  return total;
}

absl::Time LastUsed(const v1::NodeTemplate& t) { return ToTime(t.last_used()); }

}  // namespace

std::string TemplateStore::StatePath(const std::string& folder) {
  return absl::StrCat(folder, "/memory.sav");
}

std::string TemplateStore::VolumePath(const std::string& folder, int index) {
  return absl::StrCat(folder, "/volume-", index, ".qcow2");
}

std::string TemplateStore::FolderOf(const std::string& key) const {
  return absl::StrCat(dir_, "/", key);
}

absl::StatusOr<std::unique_ptr<TemplateStore>> TemplateStore::Open(std::string dir,
                                                                   uint64_t budget_bytes,
                                                                   Clock clock) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("create ", dir, ": ", ec.message()));
  // libvirt's qemu user reads the frozen volumes through the sandboxes' overlays.
  fs::permissions(dir, fs::perms(0755), ec);
  std::unique_ptr<TemplateStore> store(new TemplateStore(std::move(dir), budget_bytes, std::move(clock)));
  RETURN_IF_ERROR(store->Load());
  return store;
}

absl::Status TemplateStore::Load() {
  absl::MutexLock lock(&mu_);
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(dir_, ec)) {
    const std::string name = f.path().filename().string();
    std::string meta_path = absl::StrCat(f.path().string(), "/", kMetaFile);
    std::ifstream in(meta_path);
    std::stringstream text;
    text << in.rdbuf();
    v1::NodeTemplate meta;
    bool ok = !absl::StartsWith(name, kStagingPrefix) && in.good() &&
              google::protobuf::util::JsonStringToMessage(text.str(), &meta).ok() &&
              meta.key() == name;
    if (!ok) {
      spdlog::info("templates: removing {} (half-built or unreadable)", f.path().string());
      fs::remove_all(f.path(), ec);
      continue;
    }
    auto files = std::make_shared<NodeTemplateFiles>();
    files->key = name;
    files->state = StatePath(f.path().string());
    for (int i = 0; fs::exists(VolumePath(f.path().string(), i)); ++i) {
      files->volumes.push_back(VolumePath(f.path().string(), i));
    }
    entries_[name] = Entry{std::move(meta), std::move(files)};
  }
  if (ec) return absl::InternalError(absl::StrCat("list ", dir_, ": ", ec.message()));
  EvictToBudget("");
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const NodeTemplateFiles>> TemplateStore::Use(const std::string& key) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.removed) {
    return absl::NotFoundError(absl::StrCat("no template ", key));
  }
  v1::NodeTemplate& meta = it->second.meta;
  meta.set_hits(meta.hits() + 1);
  *meta.mutable_last_used() = ToTimestamp(clock_());
  if (absl::Status s = WriteMeta(meta); !s.ok()) spdlog::warn("templates: {}", std::string(s.message()));
  return std::shared_ptr<const NodeTemplateFiles>(it->second.files);
}

bool TemplateStore::Contains(const std::string& key) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  return it != entries_.end() && !it->second.removed;
}

absl::StatusOr<std::string> TemplateStore::Stage(const std::string& key) {
  std::random_device rd;
  std::string folder = absl::StrCat(dir_, "/", kStagingPrefix, key, "-", rd());
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) return absl::InternalError(absl::StrCat("create ", folder, ": ", ec.message()));
  fs::permissions(folder, fs::perms(0755), ec);
  return folder;
}

void TemplateStore::Discard(const std::string& staged) {
  std::error_code ec;
  fs::remove_all(staged, ec);
}

absl::Status TemplateStore::WriteMeta(const v1::NodeTemplate& meta) {
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(meta, &json).ok()) {
    return absl::InternalError("cannot encode a template's description");
  }
  const std::string path = absl::StrCat(FolderOf(meta.key()), "/", kMetaFile);
  const std::string tmp = absl::StrCat(path, ".tmp");
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << json;
    if (!out.good()) return absl::InternalError(absl::StrCat("write ", tmp));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return absl::InternalError(absl::StrCat("rename ", tmp, ": ", ec.message()));
  return absl::OkStatus();
}

absl::Status TemplateStore::Commit(const std::string& staged, v1::NodeTemplate meta, int volumes) {
  const std::string key = meta.key();
  absl::MutexLock lock(&mu_);
  std::error_code ec;
  if (auto it = entries_.find(key); it != entries_.end() && !it->second.removed) {
    fs::remove_all(staged, ec);
    return absl::AlreadyExistsError(absl::StrCat("template ", key, " exists"));
  }
  Sweep();  // a removed template of this key still held: its folder must go first
  if (fs::exists(FolderOf(key))) {
    fs::remove_all(staged, ec);
    return absl::AlreadyExistsError(absl::StrCat("template ", key, " is still held"));
  }
  meta.set_size_bytes(FolderBytes(staged));
  if (budget_ > 0 && meta.size_bytes() > budget_) {
    fs::remove_all(staged, ec);
    return absl::ResourceExhaustedError(absl::StrCat(
        "template ", key, " takes ", meta.size_bytes(), " bytes, more than the budget of ",
        budget_, " bytes (--template-budget)"));
  }
  *meta.mutable_created() = ToTimestamp(clock_());
  *meta.mutable_last_used() = meta.created();
  fs::rename(staged, FolderOf(key), ec);
  if (ec) {
    fs::remove_all(staged, ec);
    return absl::InternalError(absl::StrCat("move template ", key, " in place: ", ec.message()));
  }
  if (absl::Status s = WriteMeta(meta); !s.ok()) {
    fs::remove_all(FolderOf(key), ec);
    return s;
  }
  auto files = std::make_shared<NodeTemplateFiles>();
  files->key = key;
  files->state = StatePath(FolderOf(key));
  for (int i = 0; i < volumes; ++i) files->volumes.push_back(VolumePath(FolderOf(key), i));
  entries_[key] = Entry{std::move(meta), std::move(files)};
  EvictToBudget(key);
  return absl::OkStatus();
}

void TemplateStore::EvictToBudget(const std::string& keep) {
  if (budget_ == 0) return;
  for (;;) {
    uint64_t used = 0;
    const Entry* oldest = nullptr;
    std::string oldest_key;
    for (const auto& [key, e] : entries_) {
      if (e.removed) continue;
      used += e.meta.size_bytes();
      if (key == keep || e.files.use_count() > 1) continue;
      if (oldest == nullptr || LastUsed(e.meta) < LastUsed(oldest->meta)) {
        oldest = &e;
        oldest_key = key;
      }
    }
    if (used <= budget_ || oldest == nullptr) break;
    spdlog::info("templates: evicting {} ({} bytes; {} bytes used, budget {})", oldest_key,
                 oldest->meta.size_bytes(), used, budget_);
    entries_[oldest_key].removed = true;
    Sweep();
  }
}

void TemplateStore::Sweep() {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (!it->second.removed || it->second.files.use_count() > 1) {
      ++it;
      continue;
    }
    std::error_code ec;
    fs::remove_all(FolderOf(it->first), ec);
    if (ec) spdlog::warn("templates: remove {}: {}", FolderOf(it->first), ec.message());
    it = entries_.erase(it);
  }
}

absl::Status TemplateStore::Remove(const std::string& key) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.removed) {
    return absl::NotFoundError(absl::StrCat("no template ", key));
  }
  it->second.removed = true;
  Sweep();
  return absl::OkStatus();
}

int TemplateStore::RemoveIf(const std::function<bool(const v1::NodeTemplate&)>& stale) {
  absl::MutexLock lock(&mu_);
  int n = 0;
  for (auto& [key, e] : entries_) {
    if (e.removed || !stale(e.meta)) continue;
    e.removed = true;
    ++n;
  }
  Sweep();
  return n;
}

std::vector<v1::NodeTemplate> TemplateStore::List() {
  absl::MutexLock lock(&mu_);
  Sweep();
  std::vector<v1::NodeTemplate> out;
  for (const auto& [key, e] : entries_) {
    if (!e.removed) out.push_back(e.meta);
  }
  std::sort(out.begin(), out.end(), [](const v1::NodeTemplate& a, const v1::NodeTemplate& b) {
    return LastUsed(a) < LastUsed(b);
  });
  return out;
}

uint64_t TemplateStore::used_bytes() {
  absl::MutexLock lock(&mu_);
  uint64_t used = 0;
  for (const auto& [key, e] : entries_) {
    if (!e.removed) used += e.meta.size_bytes();
  }
  return used;
}

}  // namespace labrack::worker
