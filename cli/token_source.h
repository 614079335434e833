// Where labrackctl's token comes from when neither --token nor LABRACK_TOKEN gave one: the
// file "token" in labrackctl's config folder ($XDG_CONFIG_HOME/labrack, else
// ~/.config/labrack), first line, surrounding blanks dropped.
#ifndef LABRACK_CLI_TOKEN_SOURCE_H_
#define LABRACK_CLI_TOKEN_SOURCE_H_

#include <string>

namespace labrack::cli {

// The token file's path; empty when neither XDG_CONFIG_HOME nor HOME is set.
std::string TokenFilePath();
// `given` when it is not empty, else the token file's token, else "" (the controller then
// answers UNAUTHENTICATED, saying where a token goes).
std::string ResolveToken(const std::string& given);

}  // namespace labrack::cli

#endif  // LABRACK_CLI_TOKEN_SOURCE_H_
