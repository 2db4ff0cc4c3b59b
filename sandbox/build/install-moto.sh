#!/usr/bin/env bash
# Installs moto's server (pinned in versions.env) into a Python virtualenv inside the sandbox
# cache, keyed by version. A second run with the same version only checks that moto_server exists.
#
# Usage: install-moto.sh            (cache dir: $EKSUP_SANDBOX_CACHE or ~/.cache/eks-upgrade-operator)
# Prints the path of moto_server on stdout when done; progress goes to stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache=${EKSUP_SANDBOX_CACHE:-$HOME/.cache/eks-upgrade-operator}
venv="$cache/moto-$MOTO_VERSION"
python=${EKSUP_PYTHON:-python3}
mkdir -p "$cache"

log() { printf '[sandbox-moto %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# One installer at a time per cache: a second caller waits, then finds the venv made.
exec 9>"$cache/moto.lock"
flock 9

# The marker is written last, so an interrupted install is redone rather than trusted.
if [ -x "$venv/bin/moto_server" ] && [ -f "$venv/.installed" ]; then
  log "moto $MOTO_VERSION: cached in $venv"
  echo "$venv/bin/moto_server"
  exit 0
fi

command -v "$python" >/dev/null || { log "error: $python not found (set EKSUP_PYTHON)"; exit 1; }
log "moto $MOTO_VERSION: creating virtualenv in $venv with $($python --version 2>&1)"
# A virtualenv records its own path in its scripts, so it is built in place under its final name;
# the marker below is what says it is complete.
rm -rf "$venv"
"$python" -m venv "$venv"
log "moto $MOTO_VERSION: installing moto[server]==$MOTO_VERSION from PyPI (about a minute cold)"
"$venv/bin/python" -m pip install --quiet "moto[server]==$MOTO_VERSION" >&2
"$venv/bin/python" -c "import moto, flask; print('moto', moto.__version__, 'installed')" >&2
touch "$venv/.installed"
log "moto $MOTO_VERSION: done"
echo "$venv/bin/moto_server"
