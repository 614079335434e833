// The templates of one host on disk: a folder per template under --template-dir holding
// the node's memory state (a libvirt save image), a frozen copy of each of its volumes
// and template.json (v1::NodeTemplate). Keeps the folder within a byte budget by evicting
// the least recently used templates, never one in use. Thread-safe.
#ifndef LABRACK_WORKER_TEMPLATES_TEMPLATE_STORE_H_
#define LABRACK_WORKER_TEMPLATES_TEMPLATE_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "labrack/v1/worker.pb.h"

namespace labrack::worker {

// One template's files. Held, it is not evicted nor removed until released.
struct NodeTemplateFiles {
  std::string key;
  std::string state;                // the save image
  std::vector<std::string> volumes;  // frozen copies, in NodePlan::volumes order
};

class TemplateStore {
 public:
  using Clock = std::function<absl::Time()>;

  // Opens (making it) `dir`, dropping half-built templates a crash left there and
  // templates whose template.json is unreadable. budget_bytes 0: no limit.
  static absl::StatusOr<std::unique_ptr<TemplateStore>> Open(std::string dir,
                                                              uint64_t budget_bytes,
                                                              Clock clock = absl::Now);

  // The template of `key`, counted as a hit; NotFound when there is none.
  absl::StatusOr<std::shared_ptr<const NodeTemplateFiles>> Use(const std::string& key);

  // Whether there is a template of `key` (not counted as a hit).
  bool Contains(const std::string& key);

  // A fresh, empty folder to build a template in; Commit or Discard it.
  absl::StatusOr<std::string> Stage(const std::string& key);
  // Makes the staged folder the template of meta.key(), whose files are named by
  // StatePath/VolumePath; sets its size and times, then evicts least recently used
  // templates until the folder fits the budget. AlreadyExists (the staged folder removed)
  // when another build committed that key first; ResourceExhausted when the template alone
  // is larger than the budget.
  absl::Status Commit(const std::string& staged, v1::NodeTemplate meta, int volumes);
  void Discard(const std::string& staged);

  // Removes the template of `key` (NotFound when absent); held templates go once released.
  absl::Status Remove(const std::string& key);
  // Removes every template for which `stale` is true (e.g. its image was replaced);
  // returns how many.
  int RemoveIf(const std::function<bool(const v1::NodeTemplate&)>& stale);
  // Every template, least recently used first.
  std::vector<v1::NodeTemplate> List();
  uint64_t used_bytes();
  const std::string& dir() const { return dir_; }

  // File names inside a template's folder.
  static std::string StatePath(const std::string& folder);
  static std::string VolumePath(const std::string& folder, int index);

 private:
  struct Entry {
    v1::NodeTemplate meta;
    std::shared_ptr<NodeTemplateFiles> files;
    bool removed = false;
  };
  TemplateStore(std::string dir, uint64_t budget, Clock clock)
      : dir_(std::move(dir)), budget_(budget), clock_(std::move(clock)) {}
  absl::Status Load();
  std::string FolderOf(const std::string& key) const;
  // Deletes the folders of removed entries nobody holds.
  void Sweep() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EvictToBudget(const std::string& keep) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status WriteMeta(const v1::NodeTemplate& meta) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string dir_;
  const uint64_t budget_;
  const Clock clock_;
  absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace labrack::worker

#endif  // LABRACK_WORKER_TEMPLATES_TEMPLATE_STORE_H_
