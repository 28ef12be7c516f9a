#!/usr/bin/env bash
# The local demo: sets up (scripts/setup.sh), starts a master and three minions on loopback in
# a temp dir, accepts their keys, runs `test.ping` and a `cmd.run`, applies a small state tree with
# an encrypted secret (dry run, real run, no-op), shows drift after a hand edit and its repair,
# and cleans everything up (processes and files) however it ends.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bash "$repo/scripts/setup.sh"
cd "$repo"
bin="$repo/.venv/bin"
demo=$(mktemp -d /tmp/linkpeek-demo.XXXXXX)
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$demo"
}
trap cleanup EXIT INT TERM

read -r pub req key < <("$bin/python" -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))')

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
master() { "$bin/lpmaster" -c "$demo/master/master.yaml" "$@"; }

say "master: init and serve (ports $pub/$req/$key, state under $demo)"
"$bin/lpmaster" init --dir "$demo/master" --interface 127.0.0.1 \
  --publish-port "$pub" --request-port "$req" --key-port "$key" >/dev/null
finger=$(master keys finger --master)
echo "master fingerprint: $finger"
"$bin/lpmaster" -c "$demo/master/master.yaml" serve 2>"$demo/master.log" &
pids+=($!)

say "three minions: init (pinning the master's fingerprint) and start"
for id in web1 web2 db1; do
  "$bin/lpminion" init --dir "$demo/$id" --id "$id" --master "127.0.0.1:$req" --key-port "$key" \
    --master-finger "$finger" --heartbeat 2 --startup-states none >/dev/null
  "$bin/lpminion" -c "$demo/$id/minion.yaml" start 2>"$demo/$id.log" &
  pids+=($!)
done

for _ in $(seq 100); do
  [ "$(master keys list --json | "$bin/python" -c 'import json,sys; print(len(json.load(sys.stdin)["pending"]))')" = 3 ] && break
  sleep 0.1
done
master keys list
say "accept their keys"
master keys accept '*' --yes

for _ in $(seq 100); do
  master run '*' test.ping --timeout 1 >/dev/null 2>&1 && break
  sleep 0.2
done

say "lpmaster run '*' test.ping"
master run '*' test.ping
cmd='echo "$(hostname): up $(cut -d" " -f1 /proc/uptime)s, $(nproc) cpus"'
say "lpmaster run '*' cmd.run '$cmd'"
master run '*' cmd.run "$cmd"
say "lpmaster run 'web*' grains.get os --json"
master run 'web*' grains.get os --json
say "lpmaster status"
master status
say "a state tree with a secret: pillar is encrypted at rest, only the master decrypts"
master secret keygen >/dev/null
token=$(printf 'demo-db-password-42' | master secret encrypt --key linkpeek:db:password -)
echo "linkpeek:db:password -> ${token:0:40}..."
mkdir -p "$demo/master/states/web" "$demo/master/pillar"
cat >"$demo/master/pillar/top.sls" <<'SLS'
base:
  '*':
    - linkpeek
SLS
cat >"$demo/master/pillar/linkpeek.sls" <<SLS
linkpeek:
  out: $demo/hosts
  db:
    password: $token
SLS
cat >"$demo/master/states/top.sls" <<'SLS'
base:
  '*':
    - motd
  'web*':
    - web
SLS
cat >"$demo/master/states/motd.sls" <<'SLS'
motd:
  file.managed:
    - name: {{ pillar['linkpeek']['out'] }}/{{ grains['id'] }}/etc/motd
    - makedirs: True
    - contents: "{{ grains['id'] }}: managed by linkpeek-ops, do not edit by hand"
SLS
cat >"$demo/master/states/web/init.sls" <<'SLS'
{% set root = pillar['linkpeek']['out'] ~ '/' ~ grains['id'] %}
app-dir:
  file.directory:
    - name: {{ root }}/srv/linkpeek
    - makedirs: True
app-config:
  file.managed:
    - name: {{ root }}/srv/linkpeek/app.ini
    - source: salt://web/app.ini.j2
    - template: jinja
    - mode: 0600
    - require:
      - file: app-dir
SLS
cat >"$demo/master/states/web/app.ini.j2" <<'SLS'
[server]
name = {{ grains['id'] }}
workers = {{ grains['num_cpus'] }}
[db]
password = {{ pillar['linkpeek']['db']['password'] }}
SLS

say "lpmaster apply '*' --test (a dry run: what would change; nothing is touched)"
master apply '*' --test || true
say "lpmaster apply '*'"
master apply '*' || true
say "lpmaster apply '*' again: nothing left to change"
master apply '*' | tail -9 || true

say "someone edits web1's motd by hand; lpmaster drift --refresh finds it (exit 2)"
echo "hand edit" >>"$demo/hosts/web1/etc/motd"
master drift --refresh || echo "(drift exit code $?)"
say "lpmaster apply 'web1' puts it back; the next drift report is clean (exit 0)"
master apply web1 | tail -9 || true
master drift --refresh && echo "(drift exit code 0)"
say "the secret is nowhere in the job store or the logs"
if grep -rq 'demo-db-password-42' "$demo/master/master.db"* "$demo"/*.log; then echo "FOUND (bug)"; else echo "not found: masked"; fi

say "done; stopping the master and minions and removing $demo"
