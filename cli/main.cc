// labrackctl: the command line for labrack-controller. Everything happens in the
// labrack_cli library (cli/cli.h); run `labrackctl --help` for commands and exit codes.
#include "cli/cli.h"

int main(int argc, char** argv) { return labrack::cli::RunCliOnProcessStreams(argc, argv); }
