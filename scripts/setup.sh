#!/usr/bin/env bash
# Installs what linkpeek-ops needs on a fresh Debian/Ubuntu machine, into .venv beside this repo.
# Idempotent: a second run only checks.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

debs=(restic supervisor git iproute2 util-linux python3-venv procps)
# packaging/build-deb and its tests: dpkg-shlibdeps and strip, lintian, systemd-analyze
debs+=(dpkg-dev lintian systemd)
# tests/packaging/test_systemd.py: the units under a real systemd (a host booted by systemd-nspawn)
debs+=(systemd-container)
# tests/packaging: bootstrap from a signed apt repository (gpg signs its Release)
debs+=(gpg gpg-agent)
# the LinkPeek blueprint's database and certificates, and tests/backup's PostgreSQL (test hosts use
# the machine's packages)
debs+=(postgresql openssl ssl-cert)
# tests/ops: a minion whose clock is off (libfaketime)
debs+=(faketime)
# restic over SFTP (ssh) from test hosts, and the demo's HTTPS requests (curl)
debs+=(openssh-client curl)
# one dpkg-query for all (a status of ".i " is "ok installed"), not a fork per package
installed=" $({ dpkg-query -W -f='${db:Status-Abbrev}${Package}\n' "${debs[@]}" 2>/dev/null || true; } | sed -n 's/^.i //p' | tr '\n' ' ') "
missing=()
for p in "${debs[@]}"; do [[ $installed == *" $p "* ]] || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  echo "setup: apt-get update (refreshing the package lists)"
  apt-get update -qq
  echo "setup: apt-get install (each package is named as it is set up; a minute or two)"
  apt-get install -y --no-install-recommends "${missing[@]}" |
    sed -u -n 's/^Setting up \([^ ]*\) .*/setup:   installed \1/p'
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  python3 -m venv .venv
fi
# An editable install in setuptools' "compat" mode is a plain path entry in a .pth file: its default
# mode loads an import hook at every interpreter start, which cost each lpmaster/lpminion process
# ~8 ms (16.5 ms -> 8 ms for `python -c pass`), more than a real install pays.
stamp=.venv/.installed-compat-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  echo "setup: installing linkpeek-ops and its test requirements into .venv"
  .venv/bin/pip install -q --disable-pip-version-check -e ".[test]" --config-settings editable_mode=compat
  touch "$stamp"
fi

# Byte-compile our packages, as a package install would: every lpmaster/lpminion process then
# starts from cached bytecode even where PYTHONDONTWRITEBYTECODE is set.
.venv/bin/python -m compileall -q -j 0 core master minion >/dev/null

# The LinkPeek blueprint's wheelhouse and offline .debs, for hosts without internet.
bash scripts/blueprint-cache.sh
