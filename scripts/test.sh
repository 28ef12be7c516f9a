#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs the whole test suite. Extra arguments go to pytest.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bash "$repo/scripts/setup.sh"
cd "$repo"
# Test files run in parallel worker processes (most tests wait on real daemons and hosts, so
# four workers on two cores halve the wall time); a file's tests stay in one worker, sharing its
# module-scoped hosts. LP_TEST_WORKERS=0 runs everything in this process.
exec .venv/bin/python -m pytest -q -p no:cacheprovider -n "${LP_TEST_WORKERS:-4}" --dist loadfile "$@"
