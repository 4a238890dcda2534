#!/usr/bin/env bash
# Checks fulfild.service as a build installs it (as root):
#   tests/package/check-unit.sh build [MAX_EXPOSURE]
#  * `systemd-analyze security --offline=yes`: the exposure score, printed, must be at most
#    MAX_EXPOSURE (3.0)
#  * `systemd-analyze verify`: no complaint at all, with this machine's systemd (Debian 12's
#    252) and its units; the build's binaries are laid over /usr/bin in a private mount
#    namespace only (overlayfs, gone when the check ends), so ExecStart= is checked too.
set -euo pipefail

[ $# -ge 1 ] && [ -d "$1" ] || { echo "usage: $0 BUILD_DIR [MAX_EXPOSURE]" >&2; exit 2; }
build=$1
max=${2:-3.0}
stage=$(mktemp -d /tmp/fulfild-unit.XXXXXX)
trap 'rm -rf "$stage"' EXIT

DESTDIR=$stage cmake --install "$build" --prefix /usr >/dev/null
unit=$stage/lib/systemd/system/fulfild.service
[ -f "$unit" ] || { echo "check-unit: $build installs no /lib/systemd/system/fulfild.service" >&2; exit 1; }

# --- security -------------------------------------------------------------------------------
threshold=$(awk -v m="$max" 'BEGIN { printf "%d", m * 10 + 0.5 }')
rc=0
out=$(systemd-analyze security --offline=yes --root="$stage" --threshold="$threshold" \
  --no-pager fulfild.service 2>&1) || rc=$?
score=$(sed -n 's/.*Overall exposure level for fulfild.service: \([0-9.]*\).*/\1/p' <<<"$out")
if [ -z "$score" ]; then
  echo "$out"
  echo "check-unit: systemd-analyze security printed no exposure level (exit $rc)" >&2
  exit 1
fi
# Each setting that still costs something, then the score.
grep -E '^✗' <<<"$out" | sed -E 's/ {2,}/  /g; s/^/  /' || true
echo "exposure score of fulfild.service: $score (at most $max allowed)"
if [ "$rc" -ne 0 ] || awk -v s="$score" -v m="$max" 'BEGIN { exit !(s > m) }'; then
  echo "check-unit: FAILED: the exposure score $score is above $max" >&2
  exit 1
fi

# --- verify ---------------------------------------------------------------------------------
rc=0
out=$(unshare --mount --propagation private sh -ec '
  mount -t overlay overlay -o lowerdir="$1/usr/bin:/usr/bin" /usr/bin
  systemd-analyze verify --no-pager "$2"' sh "$stage" "$unit" 2>&1) || rc=$?
if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
  echo "$out"
  echo "check-unit: FAILED: systemd-analyze verify fulfild.service (exit $rc)" >&2
  exit 1
fi
echo "systemd-analyze verify fulfild.service: no complaint"
