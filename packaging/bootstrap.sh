#!/usr/bin/env bash
# Make a fresh Debian 12 VPS a managed minion in one command (as root):
#
#   bootstrap.sh --master lp.example.org --master-finger FP [--id web1] [--key web1.key]
#                [--deb linkpeek-ops_VERSION_ARCH.deb] [--grain role=web]... [--force]
#
#   --master HOST[:PORT]  the master's address (request port, default 4606)
#   --master-finger FP    its key's fingerprint: `lpmaster keys finger --master` on the master
#   --id ID               this minion's id (default: --key's file name, else `hostname -f`)
#   --key FILE            a key from `lpmaster keys gen ID` on the master: already accepted
#                         there, so the host joins trusted (without it, accept it on the master)
#   --deb FILE            install this .deb (default: `apt-get install linkpeek-ops` from the
#                         apt sources this host has)
#   --grain KEY=VALUE     a custom grain (repeatable)
#   --force               rewrite a config or key that differs from what is asked
#
# It installs the package, writes /etc/linkpeek-ops/minion.yaml and the key, enables and
# starts lpminion.service, and prints what it did and the next step on the master. Running
# it again with the same arguments changes nothing. Exit codes: 0 done, 1 failed,
# 64 bad arguments or a config that differs (nothing changed).
set -euo pipefail

CONFIG=/etc/linkpeek-ops/minion.yaml
ROOT=/var/lib/linkpeek-ops/minion
PYTHON=/usr/lib/linkpeek-ops/bin/python3
UNIT=lpminion.service

say() { printf 'bootstrap: %s\n' "$*"; }
die() { printf 'bootstrap: error: %s\n' "$1" >&2; exit "${2:-1}"; }
usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }

master='' finger='' id='' key='' deb='' force=0 grains=()
while [ $# -gt 0 ]; do
  case "$1" in
    --master) master=${2:-}; shift 2 ;;
    --master-finger) finger=${2:-}; shift 2 ;;
    --id) id=${2:-}; shift 2 ;;
    --key) key=${2:-}; shift 2 ;;
    --deb) deb=${2:-}; shift 2 ;;
    --grain) grains+=("${2:-}"); shift 2 ;;
    --force) force=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument $1" 64 ;;
  esac
done
[ -n "$master" ] && [ -n "$finger" ] || { usage >&2; die "--master and --master-finger are required" 64; }
[ "$(id -u)" = 0 ] || die "run me as root" 64
if [ -n "$key" ]; then
  [ -f "$key" ] || die "--key $key: no such file" 64
  key=$(realpath -- "$key")
  [ -n "$id" ] || id=$(basename -- "$key" .key)
fi
[ -n "$id" ] || id=$(hostname -f 2>/dev/null || hostname)
if [ -n "$deb" ]; then
  [ -f "$deb" ] || die "--deb $deb: no such file" 64
  deb=$(realpath -- "$deb")
fi

# 1. the package
installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Version}' linkpeek-ops 2>/dev/null || true)
export DEBIAN_FRONTEND=noninteractive
if [ -n "$deb" ]; then
  wanted=$(dpkg-deb -f "$deb" Version)
  if [ "$installed" = "ii  $wanted" ]; then
    say "linkpeek-ops $wanted is installed already"
  else
    apt-get install -y -q --no-install-recommends "$deb" >/dev/null || die "apt-get install $deb failed (above)"
    say "installed linkpeek-ops $wanted from $deb"
  fi
elif [ "${installed:0:2}" = ii ]; then
  say "linkpeek-ops ${installed#ii  } is installed already"
else
  apt-get update -q >/dev/null || die "apt-get update failed (above): check this host's apt sources, or pass --deb FILE"
  apt-get install -y -q --no-install-recommends linkpeek-ops >/dev/null \
    || die "apt-get install linkpeek-ops failed (above): is the package in this host's apt sources? Or pass --deb FILE"
  say "installed linkpeek-ops $(dpkg-query -W -f='${Version}' linkpeek-ops) from apt"
fi

# 2. the config and key
differs=$("$PYTHON" -I - "$CONFIG" "$ROOT" "$id" "$master" "$finger" "$key" "${grains[@]}" <<'EOF'
import os, sys
from core.config import DEFAULT_REQUEST_PORT, load_minion
from core.errors import LinkpeekError
from core.keys import normalize_fingerprint
from minion.enroll import parse_master

config, root, mid, master, finger, key, *grains = sys.argv[1:]
if not os.path.exists(config):
    sys.exit(0)
try:
    cfg = load_minion(config)
    host, port = parse_master(master)
    want = {"root": root, "id": mid, "master": host, "master_port": port or DEFAULT_REQUEST_PORT,
            "master_finger": normalize_fingerprint(finger),
            "grains": dict(g.partition("=")[::2] for g in grains)}
except LinkpeekError as exc:
    print(exc)
    sys.exit(0)
have = {k: getattr(cfg, k) for k in want}
have["master_finger"] = normalize_fingerprint(cfg.master_finger or "0" * 64)
out = [f"{k} is {have[k]!r}, not {want[k]!r}" for k in want if have[k] != want[k]]
if key:
    try:
        with open(key) as given, open(os.path.join(cfg.pki_dir, "minion.key")) as mine:
            same_key = given.read().strip() == mine.read().strip()
    except OSError:
        same_key = False
    if not same_key:
        out.append(f"the installed key is not {key}")
print("; ".join(out) if out else "same")
EOF
)
init_minion() {
  local args=(--dir "$ROOT" --id "$id" --master "$master" --master-finger "$finger")
  [ -z "$key" ] || args+=(--key "$key")
  for g in "${grains[@]}"; do args+=(--grain "$g"); done
  [ $force = 0 ] || args+=(--force)
  lpminion -c "$CONFIG" init "${args[@]}" >/dev/null
}
case "$differs" in
  same) say "$CONFIG is written already, as asked" ;;
  '')
    [ ! -e "$ROOT/pki/minion.key" ] || [ $force = 1 ] \
      || die "$ROOT/pki holds a key from an earlier install but $CONFIG is gone; use --force to replace it" 64
    init_minion
    say "wrote $CONFIG (id $id, master $master)${key:+ and installed the key from $key}" ;;
  *)
    [ $force = 1 ] || die "$CONFIG differs from what you asked: $differs; use --force to rewrite it" 64
    init_minion
    say "rewrote $CONFIG (id $id, master $master): $differs"
    restart=1 ;;
esac

# 3. enable and start
if [ "$(systemctl is-enabled "$UNIT" 2>/dev/null || true)" = enabled ]; then
  say "$UNIT is enabled already"
else
  systemctl enable "$UNIT" 2>/dev/null
  say "enabled $UNIT (it starts at boot)"
fi
if [ -d /run/systemd/system ]; then
  if [ "${restart:-0}" = 1 ]; then
    systemctl restart "$UNIT"
    say "restarted $UNIT with the new config"
  elif systemctl is-active --quiet "$UNIT"; then
    say "$UNIT is running already"
  else
    systemctl start "$UNIT"
    say "started $UNIT (logs: journalctl -u lpminion)"
  fi
else
  say "systemd is not running on this host, so $UNIT was not started; run" \
      "'$(sed -n 's/^ExecStart=//p' /lib/systemd/system/$UNIT)' under this host's service manager"
fi

# 4. what the master does next
mine=$("$PYTHON" -I -c 'import sys; from core.keys import fingerprint, read_public_key
print(fingerprint(read_public_key(sys.argv[1])))' "$ROOT/pki/minion.pub")
say "this minion: id $id, key fingerprint $mine"
if [ -n "$key" ]; then
  say "its key was accepted when it was generated; you may delete $key now"
  say "next, on the master: lpmaster run '$id' test.ping"
else
  say "next, on the master: lpmaster keys finger '$id' (compare with the fingerprint above)," \
      "then lpmaster keys accept '$id'"
fi
