# Shared part of the Debian 12 cross toolchain files (aarch64-linux-gnu.cmake,
# arm-linux-gnueabihf.cmake). Those set FULFIL_CROSS_TRIPLET and FULFIL_CROSS_QEMU and
# include this file. Install what it needs with `.ci/install-deps --cross`.
#
# Two layouts of the target's libraries, chosen here:
#  * multiarch (the default): the :arm64 / :armhf -dev packages installed on the build
#    host, libraries and .pc files under /usr/lib/<triplet>, headers under /usr/include.
#  * a sysroot, used when /opt/fulfil-sysroots/<triplet> exists (or CMAKE_SYSROOT is
#    given): .ci/install-deps unpacks the same -dev packages there when the host cannot
#    install them side by side with its amd64 ones (multiarch needs identical versions of
#    both, and a mirror that lags for one architecture breaks that).
# The compilers are Debian's g++-<triplet> in both; tests run under qemu-user through
# CMAKE_CROSSCOMPILING_EMULATOR.
set(CMAKE_SYSTEM_NAME Linux)
set(_fulfil_t ${FULFIL_CROSS_TRIPLET})
set(CMAKE_C_COMPILER ${_fulfil_t}-gcc)
set(CMAKE_CXX_COMPILER ${_fulfil_t}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${_fulfil_t})

if(NOT CMAKE_SYSROOT AND EXISTS /opt/fulfil-sysroots/${_fulfil_t}/.complete)
  set(CMAKE_SYSROOT /opt/fulfil-sysroots/${_fulfil_t})
endif()

# Programs (pkg-config, python3, ...) always come from the build host.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(ENV{PKG_CONFIG_PATH} "")
if(CMAKE_SYSROOT)
  # Everything of the target from the sysroot only: a host header directory such as
  # /usr/include on the command line would shadow the sysroot's glibc and library headers.
  set(CMAKE_FIND_ROOT_PATH /usr/${_fulfil_t})
  set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
  set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
  set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
  set(ENV{PKG_CONFIG_SYSROOT_DIR} "${CMAKE_SYSROOT}")
  set(ENV{PKG_CONFIG_LIBDIR}
    "${CMAKE_SYSROOT}/usr/lib/${_fulfil_t}/pkgconfig:${CMAKE_SYSROOT}/usr/share/pkgconfig")
  set(CMAKE_CROSSCOMPILING_EMULATOR ${FULFIL_CROSS_QEMU};-L;${CMAKE_SYSROOT})
else()
  # /usr/<triplet> holds the cross glibc and libstdc++; the multiarch -dev packages are
  # found on the host's own prefixes through CMAKE_LIBRARY_ARCHITECTURE
  # (/usr/lib/<triplet>, /usr/lib/<triplet>/cmake). Arch-independent headers
  # (nlohmann_json, Boost, doctest) are shared with the host.
  set(CMAKE_FIND_ROOT_PATH /usr/${_fulfil_t})
  set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
  set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
  set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
  set(ENV{PKG_CONFIG_SYSROOT_DIR} "")
  set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${_fulfil_t}/pkgconfig:/usr/share/pkgconfig")
  # -L: the dynamic loader and libc from the cross packages; qemu falls back to the host's
  # /usr/lib/<triplet> for the multiarch libraries.
  set(CMAKE_CROSSCOMPILING_EMULATOR ${FULFIL_CROSS_QEMU};-L;/usr/${_fulfil_t})
endif()
