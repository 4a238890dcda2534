#!/usr/bin/env bash
# Runs one of this folder's node scripts with its arguments, e.g.
#   run.sh ui_test.mjs /path/to/fulfild /path/to/artifacts
#   run.sh validate_openapi.mjs FILE...
# Installs the npm packages (exact versions from package-lock.json) into this folder on
# first use only; Chromium itself is the system's /usr/bin/chromium (override: CHROMIUM=).
set -euo pipefail
if [[ $# -lt 1 ]]; then
  echo "usage: $0 SCRIPT.mjs [ARGS...]" >&2
  exit 2
fi
script=$1
shift
args=()
for a in "$@"; do
  # Paths are made absolute before the cd below (the artifacts folder may not exist yet).
  if [[ "$a" == /* || -e "$a" ]]; then args+=("$(realpath -m "$a")"); else args+=("$a"); fi
done
# UI_DIR (optional): test these UI files instead of the compiled-in ones.
if [[ -n "${UI_DIR:-}" ]]; then
  UI_DIR=$(realpath "$UI_DIR")
  export UI_DIR
fi
cd "$(dirname "${BASH_SOURCE[0]}")"
if [[ ! -d node_modules/playwright-core || ! -d node_modules/@apidevtools/swagger-parser ]]; then
  npm ci --no-audit --no-fund
fi
exec node "$script" "${args[@]}"
