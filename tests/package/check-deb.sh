#!/usr/bin/env bash
# Checks a fulfild .deb as cpack made it, without installing it:
#   tests/package/check-deb.sh build-aarch64/fulfild_0.1.0-1_arm64.deb
# Prints dpkg-deb --info and --contents, then checks the control fields (the architecture
# the file name says, Depends found by dpkg-shlibdeps plus the hand-written ones), the files
# and their owners, the binaries' machine, the conffiles and the maintainer scripts, then
# runs lintian.
set -euo pipefail

[ $# -eq 1 ] && [ -f "$1" ] || { echo "usage: $0 FULFILD.deb" >&2; exit 2; }
deb=$1
fail() { echo "check-deb: FAILED ($deb): $*" >&2; exit 1; }

arch=$(basename "$deb" .deb)
arch=${arch##*_}
case $arch in
  amd64) machine="X86-64" ;;
  arm64) machine="AArch64" ;;
  armhf) machine="ARM" ;;
  *) fail "unexpected architecture $arch in the file name" ;;
esac

echo "--- dpkg-deb --info $deb"
dpkg-deb --info "$deb"
echo "--- dpkg-deb --contents $deb"
contents=$(dpkg-deb --contents "$deb")
echo "$contents"

field() { dpkg-deb --field "$deb" "$1"; }
[ "$(field Package)" = fulfild ] || fail "Package is $(field Package)"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture is $(field Architecture), not $arch"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
names() { tr ',' '\n' | sed -E 's/^ *//; s/[ (].*//'; }  # package names of a relation field
depends=$(field Depends | names)
# From dpkg-shlibdeps (the libraries fulfild and fulfilctl link) and from CMake (the rest).
for p in libc6 libstdc++6 libsqlite3-0 libcurl4 libusb-1.0-0 libcups2 libsystemd0 libssl3 \
  zlib1g libqrencode4 systemd udev procps; do
  grep -qxF "$p" <<<"$depends" || fail "Depends lacks $p: $(field Depends)"
done
field Recommends | names | grep -qxF cups || fail "Recommends lacks cups"

for f in ./usr/bin/fulfild ./usr/bin/fulfilctl ./lib/systemd/system/fulfild.service \
  ./lib/udev/rules.d/70-fulfild.rules ./usr/lib/sysusers.d/fulfild.conf \
  ./usr/lib/tmpfiles.d/fulfild.conf ./etc/fulfild/fulfild.json ./usr/share/doc/fulfild/README.md \
  ./usr/lib/fulfild/fulfil_printing.so; do
  grep -Eq "^[-rwx]{10} root/root .* ${f//./\\.}$" <<<"$contents" || fail "$f missing (or not root/root)"
done

x=$(mktemp -d)
trap 'rm -rf "$x"' EXIT
dpkg-deb --extract "$deb" "$x/root"
dpkg-deb --control "$deb" "$x/control"
for b in usr/bin/fulfild usr/bin/fulfilctl usr/lib/fulfild/fulfil_printing.so; do
  m=$(readelf -h "$x/root/$b" | sed -n 's/^ *Machine: *//p')
  case $m in *"$machine"*) ;; *) fail "$b is for $m, not $machine" ;; esac
  if readelf -S "$x/root/$b" | grep -q '\.debug_info'; then fail "$b is not stripped"; fi
done
# The printing libraries are the module's, loaded when a printer needs them, not fulfild's.
if readelf -d "$x/root/usr/bin/fulfild" | grep -Eq 'NEEDED.*lib(cups|cairo|pango)'; then
  fail "usr/bin/fulfild links the printing libraries itself"
fi
grep -qx /etc/fulfild/fulfild.json "$x/control/conffiles" || fail "fulfild.json is not a conffile"
for s in postinst prerm postrm; do
  [ -x "$x/control/$s" ] || fail "no executable $s"
  sh -n "$x/control/$s" || fail "$s does not parse"
done
# lintian, Debian's own package checker, when installed (.ci/install-deps installs it).
# Not applicable to this repository: a copyright file and a Debian changelog (the license
# is not stated here) and manual pages (the README is the documentation).
if command -v lintian >/dev/null; then
  rc=0
  out=$(lintian --tag-display-limit 0 --fail-on error,warning \
    --suppress-tags no-copyright-file,no-changelog,no-manual-page "$deb" 2>&1) || rc=$?
  grep -v '^running with root privileges is not recommended!$' <<<"$out" || true
  [ "$rc" -eq 0 ] || fail "lintian found errors or warnings (above)"
  echo "lintian: no errors or warnings"
fi
echo "check-deb: $(basename "$deb") is fine ($arch, $(du -k "$deb" | cut -f1) KiB)"
