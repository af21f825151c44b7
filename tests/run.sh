#!/usr/bin/env bash
# The one test entry point. On a fresh Debian machine it installs what the suite needs, then runs
# the whole suite with `cargo test`. CI (.ci/run) calls it; so can you:  tests/run.sh
#
# It grows with the project: the Samba AD DC harness and the Python SDK checks (msal, msgraph-sdk)
# are set up here when their issues land. Nothing is skipped silently: a missing prerequisite is
# installed or the script fails.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*" >&2; }

# Debian packages the suite needs (beyond the Rust toolchain and a C compiler, which the build
# itself needs). Installed only when missing.
packages=()  # Samba AD DC packages join this list with the AD connector issue
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

log "cargo test"
cargo test --locked "$@"
