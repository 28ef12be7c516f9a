"""`lpmaster secret keygen|encrypt`: the secrets key pair, and ENC[...] tokens for pillar.

    lpmaster -c /srv/lp/master.yaml secret keygen
    lpmaster secret encrypt --key linkpeek:db:password --pubkey secrets.pub < pw.txt
    lpmaster secret encrypt --key linkpeek:db:password -c /srv/lp/master.yaml -

`encrypt` needs only the public key, so it runs on any laptop. The value is read from
stdin (default, or `-`), a file (`--file`), or, with a warning, the command line.
"""
from __future__ import annotations

import argparse
import sys

from core.cli import EXIT_OK, add_config_arg, print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("secret", help="the secrets key pair and ENC[...] pillar tokens",
                                   description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="secret_command", metavar="ACTION")
    sub.required = True

    keygen = sub.add_parser("keygen", help="create the master's secrets key pair",
                            description="Create the key pair pillar secrets are encrypted to, once. secrets.pub may be shared: anyone with it can add a secret; only the master can read one.")
    add_config_arg(keygen, "master")
    keygen.add_argument("--dir", default=None,
                        help="write the key pair here instead of ROOT/pki/secrets from -c CONFIG")
    keygen.add_argument("--force", action="store_true",
                        help="replace an existing key (every token made for it becomes unreadable)")
    keygen.add_argument("--json", action="store_true", help="print paths and key id as JSON")
    keygen.set_defaults(func=keygen_command)

    enc = sub.add_parser("encrypt", help="print an ENC[...] token for a pillar value",
                         description="Read a value (from stdin with -) and print the ENC[v1,...] token to paste into pillar at that --key; the token only decrypts at that key.")
    add_config_arg(enc, "master")
    enc.add_argument("--key", required=True, metavar="PILLAR:KEY:PATH",
                     help="the pillar key the value goes under (the token only decrypts there)")
    enc.add_argument("value", nargs="?", default=None, metavar="VALUE",
                     help="'-' or nothing: read stdin (one trailing newline dropped); a literal "
                          "value works but lands in your shell history")
    enc.add_argument("--file", default=None, metavar="PATH", help="encrypt this file's bytes as they are")
    enc.add_argument("--pubkey", default=None, metavar="FILE",
                     help="the master's secrets public key (else ROOT/pki/secrets/secrets.pub of -c)")
    enc.add_argument("--json", action="store_true", help='print {"key": ..., "token": ...}')
    enc.set_defaults(func=encrypt_command)


def keygen_command(args: argparse.Namespace) -> int:
    from core.errors import ConfigError
    from core.secrets import key_id, load_public_key, write_keypair

    directory = args.dir
    if directory is None:
        if not getattr(args, "config", None):
            raise ConfigError("secret keygen needs -c CONFIG (or --dir DIR)")
        from core.config import load_master
        from master.pillar import secrets_dir
        directory = secrets_dir(load_master(args.config).root)
    secret_path, public_path = write_keypair(directory, overwrite=args.force)
    public = load_public_key(public_path)
    if args.json:
        print_json({"secret_key": secret_path, "public_key": public_path, "key_id": key_id(public)})
    else:
        print(f"secrets key {key_id(public)} written:\n  {secret_path} (private, stays on the master)\n"
              f"  {public_path} (public: copy it to whoever adds secrets)")
    return EXIT_OK


def encrypt_command(args: argparse.Namespace) -> int:
    from core.errors import ConfigError
    from core.secrets import encrypt, load_public_key

    pubkey_path = args.pubkey
    if pubkey_path is None:
        if not getattr(args, "config", None):
            raise ConfigError("secret encrypt needs --pubkey FILE or -c CONFIG")
        from core.config import load_master
        from master.pillar import secrets_pub_path
        pubkey_path = secrets_pub_path(load_master(args.config).root)
    public = load_public_key(pubkey_path)
    plaintext = _read_value(args)
    token = encrypt(public, args.key, plaintext)
    if args.json:
        print_json({"key": args.key, "token": token})
    else:
        print(token)
    return EXIT_OK


def _read_value(args: argparse.Namespace) -> bytes:
    from core.errors import ConfigError

    if args.file is not None and args.value not in (None, "-"):
        raise ConfigError("give the value once: VALUE, --file PATH or stdin")
    if args.file is not None:
        try:
            with open(args.file, "rb") as fh:
                return fh.read()
        except OSError as exc:
            raise ConfigError(f"cannot read {args.file}: {exc.strerror}") from exc
    if args.value not in (None, "-"):
        print("lpmaster: warning: a value on the command line lands in your shell history and in "
              "the process list; prefer stdin or --file", file=sys.stderr)
        return args.value.encode("utf-8")
    if sys.stdin.isatty():
        import getpass
        return getpass.getpass("value to encrypt (not echoed): ").encode("utf-8")
    data = sys.stdin.buffer.read()
    for ending in (b"\r\n", b"\n"):
        if data.endswith(ending):
            return data[:-len(ending)]
    return data
