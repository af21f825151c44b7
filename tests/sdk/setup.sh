#!/usr/bin/env bash
# Create the Python venv with Microsoft's SDKs (msal, msgraph-sdk) that tests/emulator_sdk.rs runs
# against the tenant emulator. Idempotent: a venv whose installed set matches requirements.txt is
# reused. Fails loudly (non-zero) when python3 -m venv or pip cannot do their job: the test never
# skips. Usage: tests/sdk/setup.sh [VENV_DIR]   (default: target/sdk-venv)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${1:-${HYBRIDSYNC_SDK_VENV:-$root/target/sdk-venv}}"
req="$here/requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
mkdir -p "$(dirname "$venv")"
# A lock keeps parallel test binaries from building the venv twice.
exec 9>"$venv.lock"
flock 9
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
rm -rf "$venv"
python3 -m venv "$venv" || {
  echo "tests/sdk/setup.sh: 'python3 -m venv' failed: install the python3-venv Debian package" >&2
  exit 1
}
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
echo "$want" >"$stamp"
