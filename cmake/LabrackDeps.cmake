# Every dependency comes from a Debian 12 package (deploy/install-deps.sh installs them).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(absl CONFIG REQUIRED)
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(GTest CONFIG REQUIRED)
find_package(benchmark CONFIG REQUIRED)
find_package(pugixml CONFIG REQUIRED)
find_package(yaml-cpp CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(SQLite3 REQUIRED)
# libcrypto for SHA-256 of image artifacts; gRPC already links OpenSSL.
find_package(OpenSSL REQUIRED)
pkg_check_modules(LIBVIRT REQUIRED IMPORTED_TARGET libvirt)
# virDomainQemuAgentCommand: the guest agent of restored guests (worker/sandbox/guest_identity.h).
pkg_check_modules(LIBVIRT_QEMU REQUIRED IMPORTED_TARGET libvirt-qemu)
# libxcrypt: SHA-512 crypt(3) hashes of console passwords.
pkg_check_modules(LIBCRYPT REQUIRED IMPORTED_TARGET libcrypt)

find_program(LABRACK_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
