"""`lpmaster init --dir DIR`: write DIR/master.yaml and the master keypair."""
from __future__ import annotations

import argparse
import os
import sys

from core.cli import DEFAULT_CONFIG_DIR, EXIT_OK

_DEFAULT = os.path.join(DEFAULT_CONFIG_DIR, "master.yaml")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="write a master config and keys into a directory",
                       description="Write DIR/master.yaml (or the file -c names, e.g. "
                                   "/etc/linkpeek-ops/master.yaml) and the master's keys in DIR/pki.")
    p.add_argument("--dir", required=True, help="root directory for all master state")
    p.add_argument("--interface", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")
    p.add_argument("--publish-port", type=int, default=4605, help="job publishing port (default 4605)")
    p.add_argument("--request-port", type=int, default=4606, help="request port (default 4606)")
    p.add_argument("--key-port", type=int, default=None,
                   help="port that hands out the master's public key, for minions to check against "
                        "their pinned fingerprint (default: the request port + 1, so 4607)")
    p.add_argument("--states", default=None, help="the state tree (default DIR/states)")
    p.add_argument("--pillar", default=None, help="the pillar tree (default DIR/pillar)")
    p.add_argument("--control-group", default=None,
                   help="group allowed to use the local control socket (default: root only)")
    p.add_argument("--force", action="store_true", help="overwrite an existing config and keys")
    r = p.add_argument_group("bringing a lost master back (its self-backup: master.yaml `backup:`)")
    r.add_argument("--restore", metavar="REPOSITORY",
                   help="restore keys, secrets key, stores, config and trees from this restic repository into --dir")
    r.add_argument("--password-file", metavar="FILE", help="the repository's password (0600 file; with --restore)")
    r.add_argument("--ssh-key", metavar="FILE", help="private key for an sftp: repository")
    r.add_argument("--known-hosts", metavar="FILE", help="known_hosts for an sftp: repository")
    r.add_argument("--snapshot", default="latest", metavar="ID|latest", help="which self-backup (default latest)")
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from master import api

    if args.restore:
        return handle_restore(args)
    cfg = api.init_master(args.dir, interface=args.interface, publish_port=args.publish_port,
                          request_port=args.request_port, key_port=args.request_port + 1 if args.key_port is None else args.key_port,
                          state_tree=args.states, pillar_tree=args.pillar,
                          control_group=args.control_group, force=args.force,
                          config_path=args.config)
    path = args.config or os.path.join(cfg.root, "master.yaml")
    print(f"wrote {path}")
    print(f"master fingerprint: {api.master_finger(cfg)}")
    print(f"next: lpmaster -c {path} serve" if args.config != _DEFAULT else
          "next: systemctl enable --now lpmaster")
    return EXIT_OK


def handle_restore(args: argparse.Namespace) -> int:
    from core.cli import EXIT_USAGE
    from core.sshaccess import SshAccess
    from master.backups.selfbackup import read_file, read_secret_file, restore_master

    if not args.password_file:
        print("lpmaster init --restore: give --password-file FILE (the repository password, mode 0600)",
              file=sys.stderr)
        return EXIT_USAGE
    password = read_secret_file(os.path.abspath(args.password_file), "password_file").rstrip("\n")
    ssh = None
    if args.ssh_key:
        ssh = SshAccess(key=read_secret_file(os.path.abspath(args.ssh_key), "ssh key"),
                        known_hosts=read_file(args.known_hosts) if args.known_hosts else "")
    print(f"restoring the master from {args.restore} into {args.dir} ...", flush=True)
    result = restore_master(args.restore, os.path.abspath(args.dir), password=password, ssh=ssh,
                            snapshot=args.snapshot, force=args.force, config_path=args.config)
    print(f"restored snapshot {result['snapshot_id'][:8]} ({result['snapshot_time']}) into {result['restored_to']}")
    print(f"master fingerprint: {api_finger(result['config'])}")
    print(f"next: lpmaster -c {result['config']} serve   (then point the master's address at this host)")
    return EXIT_OK


def api_finger(config_path: str) -> str:
    from master import api

    return api.master_finger(api.load_config(config_path))
