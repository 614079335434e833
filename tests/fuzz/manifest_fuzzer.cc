// libFuzzer target for image manifest YAML (ParseImageManifestYaml): any bytes must give a
// manifest or an InvalidArgument naming the input, never a crash, hang, leak or undefined
// behaviour. A manifest it accepts must pass the validator on its own and survive a trip
// through ImageManifestToYaml unchanged, since workers write manifests back that way.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/topology/manifest_yaml.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/fuzz/fuzz_check.h"

namespace labrack::fuzz {
namespace {

void CheckAccepted(const v1::ImageManifest& manifest) {
  absl::Status valid = ValidateImageManifest(manifest);
  Require(valid.ok(), "a parsed manifest must validate on its own", valid.ToString());
  std::string yaml = ImageManifestToYaml(manifest);
  absl::StatusOr<v1::ImageManifest> again = ParseImageManifestYaml(yaml, kSourceName);
  Require(again.ok(), "a written manifest must parse again",
          again.status().ToString() + "\n" + yaml);
  Require(google::protobuf::util::MessageDifferencer::Equals(manifest, *again),
          "a written manifest must read back unchanged", yaml);
}

}  // namespace
}  // namespace labrack::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<labrack::v1::ImageManifest> manifest =
      labrack::ParseImageManifestYaml(text, labrack::fuzz::kSourceName);
  if (manifest.ok()) {
    labrack::fuzz::CheckAccepted(*manifest);
  } else {
    labrack::fuzz::RequireRefusal(manifest.status());
  }
  return 0;
}
