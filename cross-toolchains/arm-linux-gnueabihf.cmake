# Cross build for 32-bit ARM hard-float (Debian armhf) with Debian 12's
# g++-arm-linux-gnueabihf and an armhf sysroot of Debian 12's -dev packages; tests run
# under qemu-arm.
# See debian-cross.cmake.
#   .ci/install-deps --cross armhf
#   cmake -S . -B build-armhf -G Ninja -DCMAKE_TOOLCHAIN_FILE=cross-toolchains/arm-linux-gnueabihf.cmake
set(CMAKE_SYSTEM_PROCESSOR arm)
set(FULFIL_CROSS_TRIPLET arm-linux-gnueabihf)
set(FULFIL_CROSS_QEMU qemu-arm)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
