"""A disk cache of render results (SLS data, template text), keyed by a hash of every input.

    with rendercache.using(opts["cachedir"]):    # minion.local.apply_local
        plan = compile_plan(...)                  # render_sls_located / render_template
        run_plan(...)                             # look here first (core.render)

A render is a pure function of: its text, every file it imports, includes or extends
(followed through the tree, each by the hash of its content), the context variables it
names (with `salt`: grains, pillar, opts and the minion id), the renderer options and the
code version (Python, Jinja2, PyYAML, our render modules). The key hashes all of those, so
any change is a miss. A template is cached only when that analysis is complete: any
`salt[...]` function that reads the host or the master (`file.file_exists`, `mine.get`,
`cp.list_master`, `log.*`, ...), a `salt` used any other way, `random`, `lipsum`, or a
template name that is not a literal makes it uncacheable: it renders every time.

Only renders are cached: every state's check still reads the host. Entries live in
`<cachedir>/render` (0700, ours, files 0600); a directory that is not ours is not used.
Values that are not picklable make the render uncacheable, never wrong.

A run reads packs newest first, only as far as it needs (an unchanged tree: the newest
one). A run that rendered anything writes one new pack (every entry it used or made: one
file, not one per render) and prunes: the newest PACK_KEEP packs are kept, any older than
PACK_MAX_AGE go, and so do stale temp files and entries of the old one-file-per-render format.
A run that rendered nothing writes and prunes nothing.
"""
from __future__ import annotations

import contextlib
import os
import pickle
import stat
import sys
import time
from contextvars import ContextVar
from typing import Any, Callable, Iterator, Mapping

from core.digest import sha256

FORMAT = "1"
PACK_KEEP = 8
PACK_MAX_AGE = 30 * 86400
TMP_MAX_AGE = 3600
PURE_SALT = frozenset({
    "pillar.get", "pillar.item", "pillar.items", "pillar.raw", "pillar.keys", "pillar.filter_by",
    "grains.get", "grains.item", "grains.items", "grains.has_value", "grains.filter_by",
    "grains.ls", "config.get", "config.option", "match.glob", "match.list", "match.pcre",
    "match.grain", "match.grain_pcre", "match.compound", "slsutil.merge", "defaults.merge",
    "defaults.deepcopy", "test.true", "test.false", "network.ip_addrs", "network.ip_addrs6",
    "file.join", "file.dirname", "file.basename",
})
SALT_INPUTS = ("grains", "pillar", "opts", "minion_id")
IMPURE_NAMES = frozenset({"lipsum", "__salt__"})
IMPURE_FILTERS = frozenset({"random"})
_CODE_MODULES = ("core.render", "core.yamlload", "core.templatecontext", "core.templatefilters",
                 "core.templateext", "core.hostlookups", "core.datamerge", "core.rendercache")

_ACTIVE: ContextVar["RenderCache | None"] = ContextVar("render_cache", default=None)
_ABSENT = "\0absent"


class Uncacheable(Exception):
    """The render depends on something the key cannot see."""


@contextlib.contextmanager
def using(cachedir: str | None) -> Iterator["RenderCache | None"]:
    """Look renders up in `<cachedir>/render` inside this block (nothing when unusable)."""
    cache = RenderCache.open(cachedir) if cachedir else None
    token = _ACTIVE.set(cache)
    try:
        yield cache
    finally:
        _ACTIVE.reset(token)
        if cache is not None:
            cache.flush()


def active() -> "RenderCache | None":
    return _ACTIVE.get()


def private_subdir(parent: str, name: str) -> str | None:
    """`parent/name`, made 0700 if missing, when it is a directory of ours no one else can
    read or write; None otherwise (then the caller goes without the cache)."""
    path = os.path.join(parent, name)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
        return None
    return path


class RenderCache:
    """One cache directory; `lookup` returns a cached result or renders and stores it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.hits = self.misses = self.skipped = 0
        self._analysis: dict[tuple[Any, ...], Any] = {}
        self._deps_ok: dict[tuple[str, str], bool] = {}
        self._inside = False
        self._unread: list[str] | None = None  # pack names not loaded yet, newest first
        self._loaded: list[dict[str, bytes]] = []
        self._used: dict[str, bytes] = {}
        self._new: dict[str, bytes] = {}

    @classmethod
    def open(cls, cachedir: str) -> "RenderCache | None":
        try:
            os.makedirs(cachedir, 0o700, exist_ok=True)
        except OSError:
            return None
        path = private_subdir(cachedir, "render")
        return cls(path) if path else None

    def lookup(self, kind: str, text: str, source: str, context: Mapping[str, Any],
               tree_root: str | None, env: Callable[[], Any], produce: Callable[[], Any]) -> Any:
        """The result of `produce()` (a pure render of `text` with `context`), cached.
        `env()` gives the Jinja environment (needed only when the template is new here)."""
        if self._inside:  # an SLS being rendered renders its Jinja part: cached as a whole
            return produce()
        try:
            key = self._key(kind, text, source, context, tree_root, env)
        except Uncacheable:
            self.skipped += 1
            return self._produce(produce)
        found = self._get(key)
        if found is not _MISS:
            self.hits += 1
            return found
        self.misses += 1
        result = self._produce(produce)
        self._put(key, result)
        return result

    def _produce(self, produce: Callable[[], Any]) -> Any:
        self._inside = True
        try:
            return produce()
        finally:
            self._inside = False

    # -- the key -------------------------------------------------------------------------

    def _key(self, kind: str, text: str, source: str, context: Mapping[str, Any],
             tree_root: str | None, env: Callable[[], Any]) -> str:
        allow_undefined = bool((context.get("opts") or {}).get("allow_undefined", False))
        head = (FORMAT, kind, code_version(), source, tree_root, allow_undefined, text)
        names, deps = self._analysis_of(head, text, source, tree_root, env)
        values = [(name, context.get(name, _ABSENT)) for name in sorted(names) if name != "salt"]
        try:
            blob = pickle.dumps((head, deps, values), protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
            raise Uncacheable("a context value cannot be hashed") from None
        return "r-" + sha256(blob).hexdigest()

    def _analysis_of(self, head: tuple[Any, ...], text: str, source: str, tree_root: str | None,
                     env: Callable[[], Any]) -> tuple[frozenset[str], tuple[tuple[str, str], ...]]:
        """What the template uses: from memory, else from disk if its imports are unchanged,
        else parsed (the only step that needs Jinja)."""
        if head in self._analysis:
            found = self._analysis[head]
            if found is None:
                raise Uncacheable(source)
            return found
        entry = "a-" + sha256(pickle.dumps(head)).hexdigest()
        found = self._get(entry)
        if found is _MISS or not (isinstance(found, tuple) and all(
                self._dep_unchanged(tree_root, dep) for dep in found[1])):
            try:
                found = analyse(env(), text, source)
            except Uncacheable:
                found = None
            self._put(entry, found)
        self._analysis[head] = found
        if found is None:
            raise Uncacheable(source)
        return found

    def _dep_unchanged(self, tree_root: str | None, dep: tuple[str, str]) -> bool:
        if dep not in self._deps_ok:
            try:
                self._deps_ok[dep] = _digest(_tree_source(tree_root, dep[0])) == dep[1]
            except Uncacheable:
                self._deps_ok[dep] = False
        return self._deps_ok[dep]


    # -- the packs -----------------------------------------------------------------------

    def _get(self, key: str) -> Any:
        data = self._new.get(key) or self._used.get(key) or self._find(key)
        if data is None:
            return _MISS
        try:
            value = pickle.loads(data)
        except _UNPICKLE_ERRORS:
            return _MISS
        self._used[key] = data
        return value

    def _find(self, key: str) -> bytes | None:
        for pack in self._loaded:
            if key in pack:
                return pack[key]
        if self._unread is None:
            self._unread = [name for _, name in reversed(_packs(self.path))]
        while self._unread:
            pack = _load_pack(os.path.join(self.path, self._unread.pop(0)))
            self._loaded.append(pack)
            if key in pack:
                return pack[key]
        return None

    def _put(self, key: str, value: Any) -> None:
        try:
            self._new[key] = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
            pass

    def flush(self) -> None:
        """Write what this run used and made as one new pack, then prune (nothing new: no-op)."""
        if not self._new:
            return
        entries = {**self._used, **self._new}
        self._new = {}
        self._used = dict(entries)
        existing = _packs(self.path)
        seq = existing[-1][0] + 1 if existing else 1
        name = f"p-{seq:012d}-{int(time.time()):x}-{os.urandom(4).hex()}"
        if write_private(os.path.join(self.path, name),
                  pickle.dumps(entries, protocol=pickle.HIGHEST_PROTOCOL)):
            prune(self.path, keep=name)


_MISS = object()
_UNPICKLE_ERRORS = (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
                    ImportError, IndexError, KeyError)


def _packs(path: str) -> list[tuple[int, str]]:
    """(sequence number, name) of the packs in `path`, oldest first."""
    found = []
    try:
        names = os.listdir(path)
    except OSError:
        return []
    for name in names:
        seq = _pack_seq(name)
        if seq is not None:
            found.append((seq, name))
    return sorted(found)


def _pack_seq(name: str) -> int | None:
    parts = name.split("-")
    if len(parts) != 4 or parts[0] != "p" or not parts[1].isdigit() or "." in name:
        return None
    return int(parts[1])


def _pack_time(name: str) -> int | None:
    try:
        return int(name.split("-")[2].split(".")[0], 16)
    except (IndexError, ValueError):
        return None


def prune_oldest(path: str, keep: int) -> None:
    """Remove all but the `keep` newest (by mtime) files of `path`: for a cache without
    packs, called after a write (a listdir when within bounds)."""
    try:
        names = os.listdir(path)
    except OSError:
        return
    if len(names) <= keep:
        return
    aged = []
    for name in names:
        with contextlib.suppress(OSError):
            aged.append((os.stat(os.path.join(path, name)).st_mtime_ns, name))
    for _, name in sorted(aged)[:max(0, len(aged) - keep)]:
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(path, name))


def _load_pack(path: str) -> dict[str, bytes]:
    try:
        with open(path, "rb") as handle:
            pack = pickle.loads(handle.read())
    except (OSError, *_UNPICKLE_ERRORS):
        return {}
    return pack if isinstance(pack, dict) else {}


def prune(path: str, keep: str | None = None, now: float | None = None) -> list[str]:
    """Remove from the cache directory `path` every pack but the newest PACK_KEEP, packs
    older than PACK_MAX_AGE (never `keep`), temp files older than TMP_MAX_AGE and entries of
    the old one-file-per-render format. Returns the names removed."""
    now = time.time() if now is None else now
    packs = [name for _, name in _packs(path)]
    doomed = set(packs[:-PACK_KEEP])
    doomed.update(n for n in packs if now - (_pack_time(n) or now) > PACK_MAX_AGE)
    try:
        names = os.listdir(path)
    except OSError:
        names = []
    for name in names:
        if name.endswith(".tmp") and now - (_pack_time(name) or 0) > TMP_MAX_AGE:
            doomed.add(name)
        elif name.startswith(("r-", "a-")) and len(name) == 66:
            doomed.add(name)
    doomed.discard(keep or "")
    removed = []
    for name in sorted(doomed):
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(path, name))
            removed.append(name)
    return removed


def _tree_source(tree_root: str | None, name: str) -> str:
    """A template's text as core.render's loader reads it (inside the tree only)."""
    from core.errors import UnsafePathError
    from core.safepath import safe_regular_file

    if not tree_root:
        raise Uncacheable("no tree")
    try:
        with open(safe_regular_file(tree_root, name), encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnsafePathError, UnicodeDecodeError):
        raise Uncacheable(name) from None


def analyse(env: Any, text: str, source: str) -> tuple[frozenset[str], tuple[tuple[str, str], ...]]:
    """(context names the template and what it loads use, ((template, content hash), ...)).

    Raises Uncacheable when the template reads anything the key cannot see."""
    names: set[str] = set()
    deps: dict[str, str] = {}
    todo = [(text, source)]
    seen: set[str] = set()
    while todo:
        body, name = todo.pop()
        try:
            tree = env.parse(body, name=name, filename=name)
        except Exception as exc:  # a syntax error: the render reports it, uncached
            raise Uncacheable(str(exc)) from None
        for ref in _scan(tree, names):
            target = env.join_path(ref, name)
            if target in seen:
                continue
            seen.add(target)
            dep_text = _source(env, target)
            deps[target] = _digest(dep_text)
            todo.append((dep_text, target))
    if "salt" in names:
        names.update(SALT_INPUTS)
    return frozenset(names), tuple(sorted(deps.items()))


def _scan(tree: Any, names: set[str]) -> list[str]:
    """Walk a Jinja AST: collect loaded names into `names`; return the templates it loads."""
    from jinja2 import nodes

    refs: list[str] = []

    def literal(expr: Any) -> list[str]:
        if isinstance(expr, nodes.Const) and isinstance(expr.value, str):
            return [expr.value]
        if isinstance(expr, (nodes.List, nodes.Tuple)):
            return [v for item in expr.items for v in literal(item)]
        if isinstance(expr, nodes.Const) and isinstance(expr.value, (list, tuple)):
            return [v for v in expr.value if isinstance(v, str)] if all(
                isinstance(v, str) for v in expr.value) else _fail("a template name")
        return _fail("a template name that is not a literal")

    def salt_call(node: Any, parent: Any, grand: Any) -> bool:
        if isinstance(parent, nodes.Getitem) and parent.node is node:
            arg = parent.arg
            return isinstance(arg, nodes.Const) and arg.value in PURE_SALT
        if isinstance(parent, nodes.Getattr) and parent.node is node:
            return isinstance(grand, nodes.Getattr) and f"{parent.attr}.{grand.attr}" in PURE_SALT
        return False

    def walk(node: Any, parent: Any, grand: Any) -> None:
        if isinstance(node, (nodes.Import, nodes.FromImport, nodes.Include, nodes.Extends)):
            refs.extend(literal(node.template))
        elif isinstance(node, nodes.Call) and isinstance(node.node, nodes.ExtensionAttribute) \
                and node.node.name == "_import":
            refs.extend(literal(node.args[0]))
        elif isinstance(node, nodes.Name) and node.ctx == "load":
            if node.name in IMPURE_NAMES:
                _fail(node.name)
            if node.name == "salt" and not salt_call(node, parent, grand):
                _fail("a salt function that is not a pure lookup")
            names.add(node.name)
        elif isinstance(node, nodes.Filter) and node.name in IMPURE_FILTERS:
            _fail(node.name)
        for child in node.iter_child_nodes():
            walk(child, node, parent)

    walk(tree, None, None)
    return refs


def _fail(why: str) -> Any:
    raise Uncacheable(why)


def _source(env: Any, name: str) -> str:
    if env.loader is None:
        raise Uncacheable("no loader")
    try:
        return env.loader.get_source(env, name)[0]
    except Exception:  # not found or refused: the render itself says so
        raise Uncacheable(name) from None


def _digest(text: str) -> str:
    return sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


_CODE_VERSION: list[str] = []


def code_version() -> str:
    """Python's version and the size and mtime of Jinja2, PyYAML and our render modules
    (found without importing them: a cache hit needs neither library)."""
    if not _CODE_VERSION:
        from importlib.util import find_spec

        parts = [sys.version]
        for name in ("jinja2", "yaml", *_CODE_MODULES):
            module = sys.modules.get(name)
            path = getattr(module, "__file__", None)
            if path is None:
                spec = find_spec(name)
                path = spec.origin if spec is not None else None
            try:
                info = os.stat(path or "")
                parts.append(f"{name}:{info.st_size}:{info.st_mtime_ns}")
            except OSError:
                parts.append(f"{name}:?")
        _CODE_VERSION.append(sha256("\0".join(parts).encode()).hexdigest())
    return _CODE_VERSION[0]


def write_private(path: str, data: bytes) -> bool:
    """A cache entry: written 0600 under a temp name and renamed into place (no fsync: a lost
    entry is only a miss); False when it could not be written."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except OSError:   # another thread of this process is writing it: not ours to remove
        return False
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return False
    return True


__all__ = ["RenderCache", "Uncacheable", "active", "analyse", "code_version", "prune", "prune_oldest", "using",
           "write_private"]
