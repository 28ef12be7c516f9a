"""The contract between the state compiler, the runner and every state module.

Compiler (pure)   SLS text + grains + pillar -> list[LowChunk] in execution order, with edges.
Runner            for each chunk: look up its StateFunction, `parse` the args into a spec
                  (done at compile time too: an unknown argument is a warning, a bad value
                  fails that state when it runs; both are compile errors in strict mode), then
                  `check(ctx, spec)` -> Pending (read-only); in test mode stop there;
                  otherwise `apply(ctx, spec, pending)` -> changes actually made.
                  The runner, not the module, turns this into Salt's result:
                    no pending changes                -> result True,  changes {}
                    pending changes, test mode        -> result None,  changes = pending.changes
                    apply returned                    -> result True,  changes = what apply returned
                    apply/check raised StateFailed    -> result False, comment = the message
                    anything else raised              -> result False, comment = the error
A state module never looks at a test flag: test mode is "run check only", so a dry run
cannot lie.

Registering a module: add `"pkg": "minion.states.pkg"` to MODULES in minion/states/__init__.py;
the module defines `FUNCTIONS = {"installed": Installed(), ...}`.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol

from core.errors import LinkpeekError

# Requisite kinds, as Salt spells them. `_in` forms are turned into edges on the target.
REQUISITES = ("require", "watch", "onchanges", "onfail", "prereq", "use",
              "listen")  # listen is accepted and treated like watch at the end of the run
REQUISITES_IN = tuple(f"{r}_in" for r in REQUISITES)
REQUISITES_ANY = tuple(f"{r}_any" for r in ("require", "watch", "onchanges", "onfail"))


class StateFailed(LinkpeekError):
    """Raised by check/apply/watch: the state failed; the message is the comment the user reads."""

    def __init__(self, comment: str, changes: Mapping[str, Any] | None = None) -> None:
        self.comment = comment
        self.changes = dict(changes or {})
        super().__init__(comment)


@dataclass(frozen=True)
class Edge:
    """A requisite edge from the chunk that holds it to `target` (a chunk tag)."""
    kind: str          # one of REQUISITES (never an _in form; the compiler reverses those)
    target: str        # the tag of the chunk depended on


@dataclass(frozen=True)
class LowChunk:
    """One state call, compiled. `tag` is Salt's key: "file_|-id_|-name_|-managed"."""
    state: str                      # "file"
    fun: str                        # "managed"
    id: str                         # the ID declaration
    name: str                       # the name argument (defaults to the ID)
    sls: str                        # "web.nginx"
    args: Mapping[str, Any]         # the arguments, less name/requisites/order/failhard/names
    edges: tuple[Edge, ...] = ()
    order: int = 0                  # position in execution order (0-based), set by the compiler
    failhard: bool = False
    source: str = ""                # "web/nginx.sls:12" for error messages
    warnings: tuple[str, ...] = ()  # compile warnings (unknown arguments...), in the state's return
    salt_order: Any = None          # Salt's `order` of the chunk (10000 + n, first 0, ...)
    # Requisites as written (`- pkg: nginx`), plus what `_in` forms on other states add here,
    # as Salt's show_lowstate lists them: ((kind, [items]), ...)
    requisites: tuple[tuple[str, Any], ...] = ()
    included_from: tuple[str, ...] = ()  # the SLS that include this chunk's SLS, nearest first

    @property
    def tag(self) -> str:
        return f"{self.state}_|-{self.id}_|-{self.name}_|-{self.fun}"


@dataclass
class Pending:
    """What `check` found. Empty `changes` means the host already matches the spec."""
    changes: dict[str, Any] = field(default_factory=dict)
    comment: str = ""
    # Free-form facts that check gathered and apply may reuse (never shown to users).
    facts: dict[str, Any] = field(default_factory=dict)
    # The comment after a successful apply ("File /etc/motd updated"); `comment` is then the
    # test-mode one ("File /etc/motd would be updated"). Empty: the runner reuses `comment`.
    applied_comment: str = ""
    # True: a watch must not fire this time (Salt's skip_watch, e.g. cmd.run's unless said no).
    skip_watch: bool = False


class FileClient(Protocol):
    """Fetches `salt://path` (or a local path) for state modules."""

    def cache_file(self, url: str) -> str:
        """Return a local path holding the file's bytes; raise StateFailed when it does not exist."""

    def list_dir(self, url: str) -> list[str]:
        """Return every file below a salt:// directory, as paths relative to it (for file.recurse)."""

    # Optional: `list_empty_dirs(url) -> list[str]`, directories below `url` holding no file, as
    # relative paths (file.recurse `include_empty`).


@dataclass
class ExecContext:
    """Everything a state function may use, handed in (no globals)."""
    grains: Mapping[str, Any]
    pillar: Mapping[str, Any]
    files: FileClient
    log: logging.Logger
    test: bool = False                       # for the runner only: modules must not read it
    render: Callable[..., str] | None = None  # render(text, context: dict, source: str) -> str (jinja)
    mask: Callable[[str], str] = lambda s: s  # replaces secret values with *** in text meant for users
    opts: Mapping[str, Any] = field(default_factory=dict)  # minion options (id, cachedir, ...)


class StateFunction(Protocol):
    def parse(self, name: str, args: Mapping[str, Any]) -> Any:
        """Validate and normalise arguments into a spec (frozen dataclass); raise StateArgError."""

    def check(self, ctx: ExecContext, spec: Any) -> Pending:
        """Look at the host, read-only; return what would change."""

    def apply(self, ctx: ExecContext, spec: Any, pending: Pending) -> dict[str, Any]:
        """Make the pending changes; return the changes made (usually pending.changes)."""


class Watchable(Protocol):
    """Optional: a state function that reacts when a watched state changed (Salt's mod_watch)."""

    def watch(self, ctx: ExecContext, spec: Any) -> dict[str, Any]:
        """Called when a watched state reported changes; return the changes made (e.g. restarted)."""

    # Optional too: `check_watch(ctx, spec) -> Pending`, what `watch` would change, for test
    # mode. Without it, test mode reports result None "Would run the watch action".
