# Shared part of the Debian 12 cross toolchain files (aarch64-linux-gnu.cmake,
# arm-linux-gnueabihf.cmake). Those set FULFIL_CROSS_TRIPLET and FULFIL_CROSS_QEMU and
# include this file. Install what it needs with `.ci/install-deps --cross`.
#
# The target's libraries come from a sysroot, /opt/fulfil-sysroots/<triplet> (or the
# CMAKE_SYSROOT given): .ci/install-deps unpacks the target architecture's -dev packages
# there, resolved and signature-checked by apt, instead of installing them beside the
# host's own through multiarch, which not every -dev package allows (libzint-dev) and
# which would tie the host's packages to the foreign architecture's versions. The
# compilers are Debian's g++-<triplet>; tests run under qemu-user with the sysroot as its
# library prefix, through CMAKE_CROSSCOMPILING_EMULATOR.
set(CMAKE_SYSTEM_NAME Linux)
set(_fulfil_t ${FULFIL_CROSS_TRIPLET})
set(CMAKE_C_COMPILER ${_fulfil_t}-gcc)
set(CMAKE_CXX_COMPILER ${_fulfil_t}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${_fulfil_t})

if(NOT CMAKE_SYSROOT)
  if(NOT EXISTS /opt/fulfil-sysroots/${_fulfil_t}/.complete)
    message(FATAL_ERROR "no sysroot for ${_fulfil_t}: run .ci/install-deps --cross "
                        "(or give -DCMAKE_SYSROOT=...)")
  endif()
  set(CMAKE_SYSROOT /opt/fulfil-sysroots/${_fulfil_t})
endif()

# Programs (pkg-config, python3, ...) come from the build host; everything of the target
# from the sysroot only: a host header directory such as /usr/include on the command line
# would shadow the sysroot's glibc and library headers. /usr/<triplet> holds the cross
# compiler's own glibc and libstdc++.
set(CMAKE_FIND_ROOT_PATH /usr/${_fulfil_t})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${CMAKE_SYSROOT}")
set(ENV{PKG_CONFIG_LIBDIR}
  "${CMAKE_SYSROOT}/usr/lib/${_fulfil_t}/pkgconfig:${CMAKE_SYSROOT}/usr/share/pkgconfig")
set(CMAKE_CROSSCOMPILING_EMULATOR ${FULFIL_CROSS_QEMU};-L;${CMAKE_SYSROOT})
