# Included by cpack (CPACK_PROJECT_CONFIG_FILE) before it makes the package: points
# dpkg-shlibdeps, which computes Depends, at the target architecture's libraries.
#
#  * DEB_HOST_ARCH: dpkg-shlibdeps then searches /lib/<triplet> and /usr/lib/<triplet> of
#    that architecture and reads the symbols files for it. A native build needs no more.
#  * A cross build against a sysroot (CMAKE_SYSROOT, /opt/fulfil-sysroots/<triplet> made by
#    .ci/install-deps --cross): the host's dpkg does not know the sysroot's packages.
#    install-deps records them in <sysroot>/var/lib/dpkg the way dpkg would; this copies
#    that database with every file path under the sysroot and gives it to dpkg-shlibdeps
#    (DPKG_ADMINDIR, read by the dpkg-query it runs), with the sysroot's library
#    directories to search (-l). The result is the Depends a build on that architecture
#    gets (checked: the arm64 libcurl4's own Depends come out exactly as Debian has them).
if(NOT CPACK_GENERATOR STREQUAL "DEB")
  return()
endif()

set(ENV{DEB_HOST_ARCH} "${CPACK_DEBIAN_PACKAGE_ARCHITECTURE}")

if(CPACK_FULFIL_SYSROOT)
  set(root "${CPACK_FULFIL_SYSROOT}")
  set(db "${root}/var/lib/dpkg")
  if(NOT EXISTS "${db}/status")
    message(FATAL_ERROR "The sysroot ${root} has no package database (${db}/status), which "
      "dpkg-shlibdeps needs to find the package of each library (sysroots made by an older "
      ".ci/install-deps lack it): run .ci/install-deps --cross to make the sysroot anew.")
  endif()
  set(admindir "${CPACK_PACKAGE_DIRECTORY}/_CPack_Packages/sysroot-dpkg")
  file(REMOVE_RECURSE "${admindir}")
  file(MAKE_DIRECTORY "${admindir}/info" "${admindir}/updates")
  file(COPY_FILE "${db}/status" "${admindir}/status")
  file(GLOB lists "${db}/info/*.list")
  foreach(list IN LISTS lists)
    # Only shared libraries matter here (dpkg-query --search for each one the binaries use).
    file(STRINGS "${list}" paths REGEX "\\.so")
    set(out "")
    foreach(p IN LISTS paths)
      string(APPEND out "${root}${p}\n")
      # Merged /usr: the sysroot's /lib is /usr/lib, and the library may be found by either.
      if(p MATCHES "^/(lib|bin|sbin)/")
        string(APPEND out "${root}/usr${p}\n")
      endif()
    endforeach()
    get_filename_component(name "${list}" NAME)
    file(WRITE "${admindir}/info/${name}" "${out}")
  endforeach()
  file(GLOB control "${db}/info/*.symbols" "${db}/info/*.shlibs")
  file(COPY ${control} DESTINATION "${admindir}/info")
  # Format 1: multiarch names (libc6:armhf.list); without it dpkg-query finds nothing.
  file(WRITE "${admindir}/info/format" "1\n")
  set(ENV{DPKG_ADMINDIR} "${admindir}")
  # /usr/lib as well: some libraries are not multiarch (libzint2.11).
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS
    "${root}/usr/lib/${CPACK_FULFIL_TRIPLET}" "${root}/usr/lib")
endif()
