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
# not touched). Refreshed when apt's lists moved on since.
debs=/var/cache/linkpeek-ops-tests/debs
packages=(nginx openssh-server unattended-upgrades sudo)
mkdir -p "$debs/partial"
download() {
  apt-get install --download-only -y -q --no-install-recommends \
    -o "Dir::Cache::archives=$debs/" -- "${packages[@]}" >/dev/null
}
if ! download 2>/dev/null; then
  apt-get update -qq
  download
fi
