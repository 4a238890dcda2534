# Cross build for 64-bit ARM (Debian arm64) with Debian 12's g++-aarch64-linux-gnu and an
# arm64 sysroot of Debian 12's -dev packages; tests run under qemu-aarch64. See
# debian-cross.cmake.
#   .ci/install-deps --cross arm64
#   cmake -S . -B build-aarch64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=cross-toolchains/aarch64-linux-gnu.cmake
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(FULFIL_CROSS_TRIPLET aarch64-linux-gnu)
set(FULFIL_CROSS_QEMU qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
