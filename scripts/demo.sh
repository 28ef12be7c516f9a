#!/usr/bin/env bash
# The demo: "I deleted the server" becomes one command, rehearsed before. Sets up
# (scripts/setup.sh), then scripts/demo.py tells the story on this machine with whole test
# hosts (Linux namespaces, tests/hostlib), each running a real minion: a master here, an SFTP
# backup host, a LinkPeek host converged from the blueprint, links stored over HTTPS, backed up,
# drift clean, a drill onto a scratch host, the LinkPeek host deleted, `lpmaster rebuild` onto a
# fresh host, recovery time by phase against the 1.5 hours by hand, the old links served again.
# It removes everything it made however it ends. Needs root.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bash "$repo/scripts/setup.sh"
cd "$repo"
exec "$repo/.venv/bin/python" "$repo/scripts/demo.py" "$@"
