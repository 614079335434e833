// Image commands: import with a progress line on a terminal, and list as a table.
#include "cli/image_commands.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/flags.h"
#include "cli/image_import.h"
#include "cli/output.h"
#include "cli/progress_line.h"
#include "common/status_macros.h"
#include "common/topology/enum_names.h"

namespace labrack::cli {
namespace {

struct ImportOptions {
  std::string manifest;
  absl::Duration timeout = absl::Minutes(30);
};

uint64_t TotalBytes(const v1::ImageManifest& m) {
  uint64_t total = 0;
  for (const v1::ImageArtifact& a : m.artifacts()) total += a.size_bytes();
  return total;
}

absl::Status Import(CommandContext& ctx, const ImportOptions& options) {
  ProgressLine line(ctx.io().err, ctx.io().stderr_is_tty, /*quiet=*/!ctx.io().stderr_is_tty);
  auto progress = [&](uint64_t sent, uint64_t total) {
    int percent = total == 0 ? 100 : static_cast<int>(100 * sent / total);
    line.Show(absl::StrFormat("importing %s: %s of %s (%d%%)", options.manifest, FormatBytes(sent),
                              FormatBytes(total), percent));
  };
  absl::StatusOr<ImportResult> result =
      ImportImageFromManifest(ctx.client(), options.manifest, options.timeout, progress);
  line.Done();
  if (!result.ok()) return result.status();
  const v1::Image& image = result->image;
  return PrintResult(ctx, image, [&](std::ostream& out) {
    const v1::ImageManifest& m = image.manifest();
    out << "image " << m.name() << " version " << m.version()
        << (image.already_present() ? " was already present" : " imported") << " ("
        << m.artifacts_size() << " artifacts, " << FormatBytes(TotalBytes(m)) << ")\n";
    if (result->artifacts_held > 0) {
      out << result->artifacts_held << " of " << m.artifacts_size()
          << " artifacts were in the store already and were not sent; sent "
          << FormatBytes(result->bytes_sent) << "\n";
    }
  });
}

void PrintImages(const v1::ListImagesResponse& resp, std::ostream& out) {
  Table table({"NAME", "VERSION", "BOOT", "ARTIFACTS", "SIZE", "VCPUS", "MEMORY", "READY-MARKER"});
  for (const v1::Image& image : resp.images()) {
    const v1::ImageManifest& m = image.manifest();
    table.AddRow({m.name(), m.version(), BootModeWord(m.boot_mode()),
                  absl::StrCat(m.artifacts_size()), FormatBytes(TotalBytes(m)),
                  absl::StrCat(m.default_vcpus()), FormatMib(m.default_memory_mib()),
                  m.readiness().serial_marker()});
  }
  table.Print(out);
}

absl::Status ListImages(CommandContext& ctx) {
  ASSIGN_OR_RETURN(
      v1::ListImagesResponse resp,
      ctx.client().Call(&v1::LabController::Stub::ListImages, v1::ListImagesRequest()));
  return PrintResult(ctx, resp, [&](std::ostream& out) { PrintImages(resp, out); });
}

}  // namespace

void AddImageCommands(CLI::App& root, CommandContext& ctx) {
  CLI::App* image = root.add_subcommand("image", "guest images in the controller's store");
  image->require_subcommand(1);

  auto import = std::make_shared<ImportOptions>();
  CLI::App* cmd = image->add_subcommand(
      "import", "stream an image (manifest.yaml and the artifacts beside it) to the controller");
  cmd->add_option("MANIFEST", import->manifest, "path of the image's manifest.yaml")->required();
  AddDurationOption(*cmd, "--timeout", &import->timeout, "deadline of the whole upload");
  cmd->callback([&ctx, import] { ctx.SetAction([&ctx, import] { return Import(ctx, *import); }); });

  image->add_subcommand("list", "list imported images")->callback([&ctx] {
    ctx.SetAction([&ctx] { return ListImages(ctx); });
  });
}

}  // namespace labrack::cli
