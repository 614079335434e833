#include "cli/error_hints.h"

#include "absl/strings/match.h"

namespace labrack::cli {

std::string HintFor(const absl::Status& status) {
  const absl::string_view message = status.message();
  switch (status.code()) {
    case absl::StatusCode::kUnauthenticated:
      if (!absl::StrContains(message, "needs a token")) return "";
      return "give a token with --token, LABRACK_TOKEN or ~/.config/labrack/token";
    case absl::StatusCode::kFailedPrecondition:
      if (!absl::StrContains(message, "(ImportImage)")) return "";
      if (absl::StrContains(message, "link-emulator image")) {
        return "build and import it with: images/build.sh linkemu && labrackctl image import "
               "images/out/linkemu/manifest.yaml";
      }
      return "import an image with: labrackctl image import MANIFEST";
    case absl::StatusCode::kNotFound:
      if (!absl::StrContains(message, "(ApplyTopology)")) return "";
      return "apply a topology with: labrackctl topology apply FILE";
    default:
      return "";
  }
}

}  // namespace labrack::cli
