# The libFuzzer build (-DLABRACK_FUZZ=ON with CC=clang CXX=clang++, in a build folder of its
# own; tests/fuzz/run.sh makes it). Everything compiled in it gets AddressSanitizer, UBSan
# and libFuzzer's coverage hooks, so that a fuzzer is guided by, and checks, our libraries
# and not only its own file. Debian's shared libraries (yaml-cpp, protobuf, abseil) stay
# uninstrumented: their bugs show up only as crashes, not as sanitizer reports.
#
#   labrack_fuzzer(NAME name SRCS ... DEPS ...)        -> <build>/bin/name

if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "LABRACK_FUZZ needs clang (CC=clang CXX=clang++ cmake ...), "
                      "not ${CMAKE_CXX_COMPILER_ID}: gcc has no libFuzzer")
endif()

# -fno-sanitize-recover: undefined behaviour aborts, so that libFuzzer keeps the input
# instead of UBSan printing a line and going on.
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                    -fno-omit-frame-pointer)
add_link_options(-fsanitize=address,undefined)

function(labrack_fuzzer)
  cmake_parse_arguments(L "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${L_NAME} ${L_SRCS})
  target_include_directories(${L_NAME} PRIVATE ${CMAKE_SOURCE_DIR})
  target_link_libraries(${L_NAME} PRIVATE ${L_DEPS})
  target_compile_options(${L_NAME} PRIVATE -fsanitize=fuzzer -Wall -Wextra -Wno-unused-parameter)
  target_link_options(${L_NAME} PRIVATE -fsanitize=fuzzer)
endfunction()
