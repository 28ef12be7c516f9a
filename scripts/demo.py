"""The demo (scripts/demo.sh runs it after setup): a LinkPeek server is deleted and comes back
with one command, rehearsed the week before.

On this machine: a master, and whole test hosts (Linux namespaces with their own disk overlay
and address, tests/hostlib) each running a real minion: dev1 (web and database together, as
the original server was), vault (an SFTP backup host), scratch1 and fresh1 (bare hosts).
Everything it made is removed when it ends, however it ends.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from master.drills.view import BY_HAND_S, format_seconds  # noqa: E402
from tests.drills.story import Story, StoryError  # noqa: E402

BOLD, OFF = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("", "")


def say(text: str) -> None:
    print(f"\n{BOLD}== {text}{OFF}", flush=True)


def show(text: str) -> None:
    print(text, flush=True)


def main() -> int:
    if os.geteuid() != 0:
        print("demo: run as root (test hosts are Linux namespaces with an overlay over /)", file=sys.stderr)
        return 64
    root = Path(tempfile.mkdtemp(prefix="linkpeek-demo-"))
    story = Story(root, say=say, show=show)
    started = time.monotonic()
    try:
        story.provision()
        stored = story.store_links(3)
        story.back_up()
        say("lpmaster drift dev1 --refresh: dev1 matches the blueprint, its backup is fresh")
        drift = story.drift()
        show(drift.stdout.rstrip())
        drill = story.drill()
        story.lose_dev1()
        say("lpmaster run dev1 test.ping: nobody answers")
        ping = story.cli("run", "dev1", "test.ping", "--timeout", "3")
        show((ping.stdout + ping.stderr).rstrip() + f"\n(exit code {ping.returncode})")
        rebuild = story.rebuild()
        say("the links stored before the loss, served again over HTTPS by the new dev1")
        served = story.links_served("dev1")
        show("\n".join(f"  {url}" for url in served))
        show("all there" if sorted(stored) == served else f"MISSING: {sorted(set(stored) - set(served))}")
        say("lpmaster drift --refresh: the fleet is whole again")
        show(story.drift("dev1").stdout.rstrip())
        say("lpmaster drills")
        show(story.cli("drills").stdout.rstrip())
        say("recovery time")
        for phase in rebuild["phases"]:
            show(f"  {phase['name']:<9} {format_seconds(phase['duration']):>8}")
        show(f"  total     {format_seconds(rebuild['total']):>8}   by hand it took {format_seconds(BY_HAND_S)}"
             f" ({BY_HAND_S / rebuild['total']:.0f}x faster); rehearsed in the drill: "
             f"{format_seconds(drill['total'])}")
        return 0 if sorted(stored) == served else 1
    except StoryError as exc:
        print(f"\ndemo: {exc}", file=sys.stderr)
        return 1
    finally:
        say(f"cleaning up: stopping the master and the hosts, removing {root} "
            f"(the demo took {format_seconds(time.monotonic() - started)})")
        story.close()
        if os.environ.get("LP_KEEP_TMP") != "1":
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
