#!/usr/bin/env bash
# The one test entry point. On a fresh Debian machine it installs what the suite needs, then runs
# the whole suite with `cargo test`. CI (.ci/run) calls it; so can you:  tests/run.sh
#
# It grows with the project: the Samba AD DC harness is set up here (its packages; the DCs
# themselves are started by the tests, tests/support/samba.rs), the Python SDK checks (msal,
# msgraph-sdk) run in a venv made by tests/sdk/setup.sh. Nothing is skipped silently: a missing
# prerequisite is installed or the script fails. The AD tests need root (Samba's DC runs only as root).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*" >&2; }

# Debian packages the suite needs (beyond the Rust toolchain and a C compiler, which the build
# itself needs). Installed only when missing.
# The Samba AD DC harness (tests/samba/lab.sh) names what it needs: the AD DC, its provisioning
# data, the LDAP client tools and openssl for the lab CA.
mapfile -t packages < <(bash tests/samba/lab.sh packages)
# The tenant emulator's interop test runs Microsoft's Python SDKs (msal, msgraph-sdk) in a venv.
packages+=(python3 python3-venv)
# The wizard's pseudo-terminal test runs the binary under util-linux's `script`.
packages+=(bsdutils)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  # Debian's maintainer scripts would start smbd/nmbd/winbind on every interface during the
  # install; a temporary policy-rc.d forbids that (the harness runs its own DC on loopback).
  policy_added=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee /usr/sbin/policy-rc.d >/dev/null
    "${sudo_cmd[@]}" chmod +x /usr/sbin/policy-rc.d
    policy_added=1
    trap '"${sudo_cmd[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if [ -n "$policy_added" ]; then
    "${sudo_cmd[@]}" rm -f /usr/sbin/policy-rc.d
  fi
fi

# The venv with Microsoft's SDKs (tests/sdk/requirements.txt, pinned) for tests/emulator_sdk.rs,
# made here so a failure to reach PyPI shows up before the build; the test makes it too if missing.
log "Python SDK venv (msal, msgraph-sdk)"
bash tests/sdk/setup.sh

log "cargo test"
cargo test --locked "$@"
