#!/usr/bin/env bash
# Prepares what the LinkPeek blueprint (states/) installs on a host, for hosts with no internet
# (tests, the demo): the app's wheelhouse, served by the master as salt://linkpeek/wheelhouse,
# and the .debs of the blueprint's packages in the tests' offline apt cache. Idempotent.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

wheelhouse=states/linkpeek/wheelhouse
requirements=states/linkpeek/app/requirements.txt
stamp=".venv/.wheelhouse-$(sha1sum "$requirements" | cut -c1-12)"
if [ ! -f "$stamp" ] || [ ! -d "$wheelhouse" ]; then
  echo "setup: downloading the LinkPeek app's wheels into $wheelhouse"
  mkdir -p "$wheelhouse"
  .venv/bin/pip download -q --disable-pip-version-check --only-binary=:all: \
    -d "$wheelhouse" -r "$requirements" 2> >(grep -v "^WARNING: Location" >&2)
  rm -f .venv/.wheelhouse-*
  touch "$stamp"
fi

# The blueprint's packages that are not on this machine, for test hosts (apt's own cache is
# not touched); tests/backup's and the drills' off-site sshd hosts install openssh-server from it too. Refreshed when apt's lists moved on since or the package list changed; otherwise
# the stamp skips apt (its --print-uris check costs ~0.7 s on every scripts/test.sh run).
debs=/var/cache/linkpeek-ops-tests/debs
packages=(nginx openssh-server unattended-upgrades sudo)
mkdir -p "$debs/partial"
apt_opts=(-o "Dir::Cache::archives=$debs/" -o DPkg::Lock::Timeout=300 --no-install-recommends)
missing() {  # the .debs not in the cache yet (needs no lock)
  apt-get install --print-uris -qq "${apt_opts[@]}" -- "${packages[@]}" 2>/dev/null | grep -c "^'" || true
}
stamp="$debs/.downloaded"
if [ "$(cat "$stamp" 2>/dev/null)" = "${packages[*]}" ] && [ "$stamp" -nt /var/lib/apt/lists ]; then
  exit 0
fi
if [ "$(missing)" != 0 ]; then
  if ! apt-get install --download-only -y -q "${apt_opts[@]}" -- "${packages[@]}" >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install --download-only -y -q "${apt_opts[@]}" -- "${packages[@]}" >/dev/null
  fi
fi
echo "${packages[*]}" > "$stamp"
