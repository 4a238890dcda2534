#!/usr/bin/env bash
# Package install test: installs a fulfild .deb (amd64, the build machine's architecture)
# into a clean Debian 12 root and checks what the package promises.
#
#   tests/package/install-test.sh build/fulfild_0.1.0-1_amd64.deb        (as root)
#
#  1. a minimal bookworm root (mmdebstrap --variant=minbase); apt installs the .deb and
#     its Depends into it from the Debian mirror
#  2. the files are where they belong, /etc/fulfild/fulfild.json is a conffile, the user
#     and group fulfild exist, /etc/fulfild and /var/lib/fulfild have their owners and
#     modes, the unit is enabled (multi-user.target.wants) and was not started, the unit
#     passes `systemd-analyze verify` there, the udev rules parse and give the nodes of
#     simulated scanners (umockdev) to group fulfild, and a store's drop-in works
#  3. fulfild --version and fulfild --check-config /etc/fulfild/fulfild.json (as the
#     fulfild user, as the service would read it); fulfild then serves once from the
#     installed files (as fulfild, in its state directory) and stops on SIGTERM
#  4. an upgrade (the same package with the next revision) keeps the configuration the
#     store changed, the database and a disabled unit disabled
#  5. dpkg -r keeps /etc/fulfild and /var/lib/fulfild; dpkg -P deletes them and the unit's
#     enablement; the user stays (see systemd/fulfild.sysusers)
#
# Everything happens in a temporary directory that is removed at the end, mounts
# included. Two things are kept between runs, in $FULFIL_PKGTEST_CACHE
# (/var/cache/fulfild-install-test; empty to keep nothing): the minbase root as a tarball,
# made again when older than a week, and the .debs apt downloaded into it (its
# /var/cache/apt/archives, copied in before and out after). FULFIL_DEBIAN_MIRROR picks the
# mirror (http://deb.debian.org/debian; the security archive is deb.debian.org's).
set -euo pipefail

[ $# -eq 1 ] && [ -f "$1" ] || { echo "usage: $0 FULFILD.deb" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "$0: needs root (chroot, mounts)" >&2; exit 2; }
deb=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
cache=${FULFIL_PKGTEST_CACHE-/var/cache/fulfild-install-test}
mirror=${FULFIL_DEBIAN_MIRROR:-http://deb.debian.org/debian}

work=$(mktemp -d /tmp/fulfild-install-test.XXXXXX)
root=$work/root
mounts=()
cleanup() {
  local i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[i]}" 2>/dev/null || true; done
  # Never follow anything out of the root: everything mounted is unmounted above.
  if ! grep -q " $work/" /proc/self/mounts; then rm -rf "$work"; else
    echo "install-test: $work still has mounts, left in place" >&2
  fi
}
trap cleanup EXIT

t0=$(date +%s)
log() { printf 'install-test [+%ss]: %s\n' "$(($(date +%s) - t0))" "$*"; }
fail() { echo "install-test: FAILED: $*" >&2; exit 1; }
check() {  # DESCRIPTION COMMAND...: runs it, fails the test with DESCRIPTION if it fails
  local what=$1
  shift
  "$@" || fail "$what"
  echo "  ok: $what"
}
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 "$@"; }
apt_root() {
  # (no fsync: the root is thrown away)
  in_root env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Use-Pty=0 \
    -o Acquire::Retries=3 -o Dpkg::Options::=--force-unsafe-io --no-install-recommends "$@"
}
stat_is() {  # PATH OWNER:GROUP MODE (names as the root has them)
  local is
  is=$(in_root stat -c '%U:%G %a' "$1" 2>&1) || true
  [ "$is" = "$2 $3" ] || { echo "    $1 is $is, expected $2 $3" >&2; return 1; }
}
nothing_runs_in_root() {  # false when some process has $root as its root directory
  local p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" != "$root" ] || return 1
  done
}
no_output() {  # TEXT: true when empty, else shows it
  [ -z "$1" ] || { echo "$1" >&2; return 1; }
}

# --- 1. a clean Debian 12 root, the package installed into it --------------------------------
tarball=${cache:+$cache/bookworm-minbase.tar}
if [ -z "$tarball" ] || [ ! -s "$tarball" ] || [ -n "$(find "$tarball" -mtime +6)" ]; then
  log "making a bookworm minbase root (mmdebstrap)"
  out=${tarball:-$work/minbase.tar}
  mkdir -p "$(dirname "$out")"
  # (the .tar name makes mmdebstrap write a tarball)
  mmdebstrap --quiet --variant=minbase --mode=root bookworm "${out%.tar}.new.tar" \
    "deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
    "deb http://deb.debian.org/debian-security bookworm-security main"
  mv "${out%.tar}.new.tar" "$out"
  tarball=$out
fi
mkdir "$root"
tar --numeric-owner -x -C "$root" -f "$tarball"
log "root unpacked from $tarball"
mount -t proc proc "$root/proc" && mounts+=("$root/proc")
# Read-only /sys for `udevadm test`.
mount -t sysfs -o ro sysfs "$root/sys" && mounts+=("$root/sys")
# A private pty instance for umockdev's simulated serial devices.
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$root/dev/pts" && mounts+=("$root/dev/pts")
ln -sfn pts/ptmx "$root/dev/ptmx"
[ -c "$root/dev/null" ] || fail "the root has no /dev/null"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
# Nothing may start a service in here (the package must not start one anyway).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
if [ -n "$cache" ] && [ -d "$cache/archives" ]; then
  cp "$cache"/archives/*.deb "$root/var/cache/apt/archives/" 2>/dev/null || true
fi
cp "$deb" "$root/tmp/"
debname=$(basename "$deb")

log "apt-get install ./$debname (and its Depends)"
apt_root update >/dev/null
log "apt-get update done"
apt_root install "/tmp/$debname" >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; fail "apt-get install"; }
grep -E '^(Setting up|Unpacking) fulfild' "$work/apt.log" || true
if [ -n "$cache" ]; then
  mkdir -p "$cache/archives"
  find "$cache/archives" -name '*.deb' -mtime +30 -delete
  cp -u "$root"/var/cache/apt/archives/*.deb "$cache/archives/" 2>/dev/null || true
fi

# --- 2. files, user, directories, unit ---------------------------------------------------------
log "checking the installed package"
for f in /usr/bin/fulfild /usr/bin/fulfilctl /lib/systemd/system/fulfild.service \
  /lib/udev/rules.d/70-fulfild.rules /usr/lib/sysusers.d/fulfild.conf \
  /usr/lib/tmpfiles.d/fulfild.conf /etc/fulfild/fulfild.json /usr/share/doc/fulfild/README.md; do
  check "installed: $f" test -f "$root$f"
done
check "fulfild and fulfilctl are executable" test -x "$root/usr/bin/fulfild" -a -x "$root/usr/bin/fulfilctl"
check "/etc/fulfild/fulfild.json is a conffile" \
  grep -q '^ /etc/fulfild/fulfild.json ' <(in_root dpkg-query -W -f='${Conffiles}\n' fulfild)
check "user fulfild exists (home /var/lib/fulfild, no login shell)" \
  grep -Eq '^fulfild:x:[0-9]+:[0-9]+:[^:]*:/var/lib/fulfild:/usr/sbin/nologin$' "$root/etc/passwd"
check "group fulfild exists" grep -q '^fulfild:' "$root/etc/group"
check "/etc/fulfild is root:fulfild 0750" stat_is /etc/fulfild root:fulfild 750
check "/var/lib/fulfild is fulfild:fulfild 0700" stat_is /var/lib/fulfild fulfild:fulfild 700
check "the groups of SupplementaryGroups= exist (lp plugdev input dialout)" \
  in_root getent group lp plugdev input dialout >/dev/null
wants=/etc/systemd/system/multi-user.target.wants/fulfild.service
check "enabled: $wants -> /lib/systemd/system/fulfild.service" \
  test "$(readlink "$root$wants")" = /lib/systemd/system/fulfild.service
check "systemctl is-enabled: enabled" test "$(in_root systemctl is-enabled fulfild.service)" = enabled
check "not started: no process runs in the root" nothing_runs_in_root
check "not started: no /run/fulfild" test ! -e "$root/run/fulfild"
verify_out=$(in_root systemd-analyze verify /lib/systemd/system/fulfild.service 2>&1) ||
  verify_out+=" (exit $?)"
check "systemd-analyze verify fulfild.service (systemd 252 in the root): no complaint" \
  no_output "$verify_out"
rules_read_cleanly() {  # OUTPUT of udevadm test: it read our rules and said nothing of them
  grep -q "Reading rules file: .*/70-fulfild.rules" <<<"$1" &&
    no_output "$(grep -E "70-fulfild.rules:[0-9]+ " <<<"$1")"
}
check "udev reads 70-fulfild.rules without complaint" \
  rules_read_cleanly "$(in_root udevadm test --action=add /class/mem/null 2>&1 || true)"

# The rules against a store's devices (udev/store-devices.umockdev: scanners of four known
# vendors on usbfs, evdev, ttyACM and hidraw, a keyboard, a USB label printer), through
# umockdev's simulated sysfs; then a store's own drop-in, as 70-fulfild.rules describes.
log "udev rules against simulated devices (umockdev)"
apt_root install umockdev >>"$work/apt.log" 2>&1 || { cat "$work/apt.log"; fail "apt-get install umockdev"; }
cp "$here/udev/store-devices.umockdev" "$root/tmp/"
udev_gives() {  # SYSPATH: "GROUP MODE" udev gives its node (names as the root has them)
  local out gid mode
  out=$(in_root umockdev-run -d /tmp/store-devices.umockdev -- udevadm test --action=add \
    "/sys/devices/pci0000:00/0000:00:14.0/usb1/$1" 2>&1 || true)
  gid=$(sed -n 's/.* GROUP \([0-9]*\)$/\1/p' <<<"$out" | tail -n 1)
  mode=$(sed -n 's/.* MODE \([0-7]*\)$/\1/p' <<<"$out" | tail -n 1)
  echo "$(in_root getent group "${gid:-none}" | cut -d: -f1) ${mode:--}"
}
udev_group_is() {  # GROUP SYSPATH (GROUP none: udev sets no group)
  local got
  got=$(udev_gives "$2")
  [ "${got% *}" = "${1/none/}" ] || { echo "    udev gives \"$got\", expected group $1" >&2; return 1; }
}
udev_check() {  # WHAT SYSPATH "GROUP MODE"
  local got
  got=$(udev_gives "$2")
  [ "$got" = "$3" ] || { echo "    $1: udev gives \"$got\", expected \"$3\"" >&2; return 1; }
}
check "HID-POS scanner (Symbol, usbfs): fulfild 0660" udev_check hidpos 1-1 "fulfild 0660"
check "wedge scanner (Honeywell, evdev): fulfild 0660" \
  udev_check wedge 1-2/1-2:1.0/0003:0C2E:0B61.0003/input/input21/event21 "fulfild 0660"
check "serial scanner (Newland, ttyACM): fulfild 0660" \
  udev_check serial 1-3/1-3:1.0/tty/ttyACM0 "fulfild 0660"
check "HID-POS scanner (Datalogic, hidraw): fulfild 0660" \
  udev_check hidraw 1-4/1-4:1.0/0003:05F9:2206.0004/hidraw/hidraw2 "fulfild 0660"
check "a keyboard stays in group input" \
  udev_group_is input 1-5/1-5:1.0/0003:046D:C31C.0005/input/input30/event30
check "USB printer (usblp): lp 0660" udev_check usblp 1-6/1-6:1.0/usbmisc/lp0 "lp 0660"
cat >"$root/etc/udev/rules.d/69-fulfild-local.rules" <<'RULES'
SUBSYSTEMS=="usb", ATTRS{idVendor}=="046d", ATTRS{idProduct}=="c31c", ENV{ID_FULFILD}="scanner"
SUBSYSTEMS=="usb", ATTRS{idVendor}=="05e0", ENV{ID_FULFILD}="none"
RULES
check "a drop-in adds a scanner of another vendor" \
  udev_check local 1-5/1-5:1.0/0003:046D:C31C.0005/input/input30/event30 "fulfild 0660"
check "a drop-in takes a known vendor's device out" udev_group_is none 1-1
rm "$root/etc/udev/rules.d/69-fulfild-local.rules"

# --- 3. running it from the installed files ----------------------------------------------------
log "running the installed fulfild"
# The fulfild user of the root, by number (chroot would look a name up on the host).
as_fulfild=$(awk -F: '$1 == "fulfild" { print $3 ":" $4 }' "$root/etc/passwd")
version=$(in_root /usr/bin/fulfild --version)
pkg_version=$(dpkg-deb -f "$deb" Version)
check "fulfild --version ($version) matches the package ($pkg_version)" \
  grep -q "${pkg_version%-*}" <<<"$version"
check "fulfilctl --help" in_root sh -c '/usr/bin/fulfilctl --help >/dev/null'
check "fulfild --check-config /etc/fulfild/fulfild.json (as fulfild)" \
  chroot --userspec="$as_fulfild" "$root" /usr/bin/fulfild --check-config /etc/fulfild/fulfild.json
# What systemd gives the service: /run/fulfild (RuntimeDirectory=) and the user; the state
# directory is the installed one. Port 0: no clash with anything on this machine.
mkdir -m 0750 "$root/run/fulfild"
chroot "$root" chown fulfild:fulfild /run/fulfild
chroot --userspec="$as_fulfild" "$root" /usr/bin/fulfild --config /etc/fulfild/fulfild.json \
  --listen 127.0.0.1:0 >"$work/fulfild.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  grep -q 'msg=serving' "$work/fulfild.log" && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
kill -TERM "$pid" 2>/dev/null || true
rc=0
wait "$pid" || rc=$?
grep -q 'msg=serving' "$work/fulfild.log" || { cat "$work/fulfild.log"; fail "fulfild did not serve"; }
check "fulfild served from the installed configuration and stopped cleanly on SIGTERM" test "$rc" -eq 0
check "it made its database in /var/lib/fulfild" test -s "$root/var/lib/fulfild/fulfild.db"
rm -rf "$root/run/fulfild"

# --- 4. upgrade --------------------------------------------------------------------------------
log "upgrading to the next revision"
next=$work/next
dpkg-deb -R "$deb" "$next"
old_version=$(sed -n 's/^Version: //p' "$next/DEBIAN/control")
new_version=${old_version%-*}-$((${old_version##*-} + 1))
sed -i "s/^Version: .*/Version: $new_version/" "$next/DEBIAN/control"
dpkg-deb --root-owner-group -b "$next" "$root/tmp/next.deb" >/dev/null
sed -i 's/"name": *"[^"]*"/"name": "changed by the store"/' "$root/etc/fulfild/fulfild.json"
in_root systemctl disable fulfild.service 2>/dev/null
in_root dpkg -i /tmp/next.deb >"$work/upgrade.log" 2>&1 || { cat "$work/upgrade.log"; fail "dpkg -i (upgrade)"; }
check "upgraded to $new_version" \
  test "$(in_root dpkg-query -W -f='${Version}' fulfild)" = "$new_version"
check "the store's configuration is kept" grep -q '"changed by the store"' "$root/etc/fulfild/fulfild.json"
check "the database is kept" test -s "$root/var/lib/fulfild/fulfild.db"
check "a unit the admin disabled stays disabled" \
  test "$(in_root systemctl is-enabled fulfild.service 2>/dev/null)" = disabled
in_root systemctl enable fulfild.service 2>/dev/null

# --- 5. remove and purge -----------------------------------------------------------------------
log "dpkg -r, then dpkg -P"
in_root dpkg -r fulfild >/dev/null
check "removed: the binaries and the unit are gone" \
  test ! -e "$root/usr/bin/fulfild" -a ! -e "$root/lib/systemd/system/fulfild.service"
check "removed: /etc/fulfild/fulfild.json is kept" test -f "$root/etc/fulfild/fulfild.json"
check "removed: /var/lib/fulfild (the database) is kept" test -s "$root/var/lib/fulfild/fulfild.db"
check "removed: dpkg keeps its conffiles (rc)" \
  test "$(in_root dpkg-query -W -f='${db:Status-Abbrev}' fulfild)" = "rc "
in_root dpkg -P fulfild >/dev/null
check "purged: /etc/fulfild is gone" test ! -e "$root/etc/fulfild"
check "purged: /var/lib/fulfild is gone" test ! -e "$root/var/lib/fulfild"
check "purged: no enablement or mask of fulfild.service is left" \
  no_output "$(find "$root/etc/systemd" -name 'fulfild.service*')"
check "purged: the fulfild user stays" grep -q '^fulfild:' "$root/etc/passwd"
check "nothing of the package was started at any point" nothing_runs_in_root

log "passed"
