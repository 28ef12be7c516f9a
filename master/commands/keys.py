"""`lpmaster keys list|accept|reject|delete|gen|finger`: manage minion keys."""
from __future__ import annotations

import argparse
import os
import sys

from core import cli


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("keys", help="list, accept, reject, delete minion keys; show fingerprints",
                       description="Manage minion keys, as salt-key does. A minion that starts asks to join with its key (pending); accept it to let it in. A key for an id that is already accepted is denied.")
    cli.add_config_arg(p, "master")
    ksub = p.add_subparsers(dest="keys_command", metavar="ACTION")
    ksub.required = True

    lp = ksub.add_parser("list", help="keys by state (accepted, pending, rejected, denied)",
                         description="Every minion id by key state: accepted, pending (asked to join), rejected, denied (the id is already accepted with another key).")
    cli.add_config_arg(lp, "master")
    lp.add_argument("--json", action="store_true", help="print JSON (Salt's shape)")
    lp.set_defaults(func=handle_list)

    for action, text in (("accept", "accept pending keys (or a rejected key named exactly)"),
                         ("reject", "reject pending or accepted keys (cuts an accepted minion off)"),
                         ("delete", "delete keys in any state (cuts an accepted minion off)")):
        ap = ksub.add_parser(action, help=text, description=text[0].upper() + text[1:] + ". Shows each key's fingerprint and asks first (--yes does not ask); compare the fingerprint with `lpminion init`'s output on the host.")
        cli.add_config_arg(ap, "master")
        ap.add_argument("target", metavar="ID-or-GLOB")
        ap.add_argument("--yes", "-y", action="store_true", help="do not ask")
        ap.add_argument("--state", choices=("accepted", "pending", "rejected", "denied"),
                        help="only keys in this state (e.g. clear a flood: delete '*' --state pending)")
        for state in ("accepted", "pending", "rejected", "denied"):
            ap.add_argument(f"--{state}", dest="state", action="store_const", const=state,
                            help=f"as --state {state}")
        ap.set_defaults(func=handle_change, action=action)

    gp = ksub.add_parser(
        "gen", help="make a minion's keypair here, accepted at once, for bootstrapping a host",
        description="Generate a keypair for minion ID, accept its public half, and write "
                    "DIR/ID.key (0600) and DIR/ID.pub for the host's bootstrap "
                    "(packaging/bootstrap.sh --key ID.key). The master keeps no copy of the "
                    "secret half: copy it to the host, then delete it here.")
    cli.add_config_arg(gp, "master")
    gp.add_argument("minion_id", metavar="ID")
    gp.add_argument("--out", metavar="DIR", default=".",
                    help="where to write ID.key and ID.pub (default: the current directory; "
                         "never inside the master's root)")
    gp.add_argument("--force", action="store_true",
                    help="replace the id's existing key (a rebuilt host; the old one is cut off)")
    gp.add_argument("--json", action="store_true")
    gp.set_defaults(func=handle_gen)

    fp = ksub.add_parser("finger", help="fingerprints of minion keys, or of the master's key",
                         description="Fingerprints of minion keys (to compare before accepting), or with --master the master's own, which every minion pins (lpminion init --master-finger).")
    cli.add_config_arg(fp, "master")
    fp.add_argument("target", nargs="?", default="*", metavar="ID-or-GLOB")
    fp.add_argument("--master", action="store_true", help="print the master's fingerprint alone")
    fp.add_argument("--json", action="store_true")
    fp.set_defaults(func=handle_finger)


def _config(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from master import api
    return api.load_config(cli.require_config(args, "master"))


_TITLES = {"accepted": "Accepted Keys:", "pending": "Unaccepted Keys:",
           "rejected": "Rejected Keys:", "denied": "Denied Keys:"}


def handle_list(args: argparse.Namespace) -> int:
    from master import api

    store = api.keystore(_config(args))   # one scan of the key files for both
    keys = store.list_ids()
    for problem in store.problems():
        print(f"lpmaster: warning: {problem}", file=sys.stderr)
    if args.json:
        cli.print_json(keys)
        return cli.EXIT_OK
    for state in ("accepted", "denied", "pending", "rejected"):
        print(_TITLES[state])
        for mid in keys[state]:
            print(mid)
    return cli.EXIT_OK


def handle_change(args: argparse.Namespace) -> int:
    from master import api

    cfg = _config(args)
    entries = api.keys_matching(cfg, args.target, args.action, args.state)
    if not entries:
        print(f"lpmaster: no key matches {args.target!r} for {args.action}", file=sys.stderr)
        return cli.EXIT_FAILED
    done_word = {"accept": "accepted", "reject": "rejected", "delete": "deleted"}[args.action]
    print(f"The following keys are going to be {done_word}:")
    for entry in entries:
        print(f"  {entry.minion_id}  ({entry.state})  {entry.finger}")
    if not args.yes:
        sys.stdout.write("Proceed? [y/N] ")
        sys.stdout.flush()
        answer = sys.stdin.readline().strip().lower()
        if answer not in ("y", "yes"):
            print("nothing changed")
            return cli.EXIT_FAILED
    done = api.change_keys(cfg, args.action, [e.minion_id for e in entries], args.state)
    for mid in done:
        print(f"Key for minion {mid} {done_word}.")
    return cli.EXIT_OK


def handle_gen(args: argparse.Namespace) -> int:
    from master import api
    from master.keygen import generate_minion_key

    cfg = _config(args)
    made = generate_minion_key(cfg, args.minion_id, args.out, force=args.force)
    if made.replaced:
        api.notify_keys_changed(cfg)
    if args.json:
        cli.print_json({"id": made.minion_id, "finger": made.finger, "key": made.secret_path,
                        "pub": made.public_path, "replaced": list(made.replaced)})
        return cli.EXIT_OK
    if made.replaced:
        print(f"Replaced the {', '.join(made.replaced)} key of {made.minion_id}.")
    print(f"Key for minion {made.minion_id} generated and accepted.")
    print(f"{made.minion_id}:  {made.finger}")
    print(f"secret key: {made.secret_path} (0600; the master keeps no copy)")
    print(f"public key: {made.public_path}")
    print(f"next: copy {made.secret_path} to the host, run there "
          f"`bootstrap.sh --id {made.minion_id} --key {os.path.basename(made.secret_path)} "
          f"--master ADDRESS --master-finger {api.master_finger(cfg)}`, then delete it here")
    return cli.EXIT_OK


def handle_finger(args: argparse.Namespace) -> int:
    from master import api

    cfg = _config(args)
    if args.master:
        print(api.master_finger(cfg))
        return cli.EXIT_OK
    fingers = api.fingers(cfg, args.target)
    if args.json:
        cli.print_json(fingers)
        return cli.EXIT_OK
    if not fingers:
        print(f"lpmaster: no key matches {args.target!r}", file=sys.stderr)
        return cli.EXIT_FAILED
    for state in ("accepted", "denied", "pending", "rejected"):
        if state in fingers:
            print(_TITLES[state])
            for mid, finger in sorted(fingers[state].items()):
                print(f"{mid}:  {finger}")
    return cli.EXIT_OK
