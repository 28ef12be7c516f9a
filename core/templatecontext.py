"""The Jinja context of SLS files and templates: grains, pillar, opts, sls paths, and `salt`.

`salt` is a read-only table of harmless lookups (`mine.get` asks the master, read-only) (`salt['pillar.get']('a:b', 'dflt')`,
`grains.get`, `config.get`, `match.*`, `slsutil.merge`, `file.file_exists`, `user.info`,
`cp.list_master`, `log.debug`, ...), also spelled `salt.user.info(name)` as formulas do.
Nothing in it changes the host or runs a command: anything else (`salt['cmd.run']`) is
undefined (`is defined` is false, `in salt` too), and calling it fails the render naming it
(SECURITY.md rule 5: pass no dangerous function in).
"""
from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Callable, Iterable, Iterator, Mapping

from core.datamerge import merge_recursive, traverse
from core.errors import RenderError

_MISSING = object()

# Where `salt['mine.get']` reads: set by a run that has a master (minion.mine.reading);
# without one (masterless) the mine is empty, as Salt's is.
MINE_SOURCE: ContextVar[Callable[[str, str, str], dict[str, Any]] | None] = ContextVar(
    "mine_source", default=None)


class TemplateFunctions(Mapping[str, Callable[..., Any]]):
    """`salt[...]` in templates: an explicit allowlist of pure lookups over this minion's data."""

    def __init__(self, minion_id: str, grains: Mapping[str, Any], pillar: Mapping[str, Any],
                 opts: Mapping[str, Any],
                 file_list: Callable[[], Iterable[str]] | None = None) -> None:
        from core import hostlookups

        self._minion_id = minion_id
        self._grains = grains
        self._pillar = pillar
        self._opts = opts
        self._table: dict[str, Callable[..., Any]] = {
            "pillar.get": self.pillar_get,
            "pillar.item": self.pillar_item,
            "pillar.items": lambda *a, **k: dict(self._pillar),
            "pillar.raw": lambda *a, **k: dict(self._pillar),
            "grains.get": self.grains_get,
            "grains.item": self.grains_item,
            "grains.items": lambda *a, **k: dict(self._grains),
            "grains.has_value": lambda key, delimiter=":": bool(
                traverse(self._grains, key, None, delimiter)),
            "grains.filter_by": lambda lookup_dict, grain="os_family", merge=None,
                default="default", base=None: filter_by(
                    lookup_dict, self._grains, grain, merge, default, base),
            "pillar.filter_by": lambda lookup_dict, pillar="", merge=None,
                default="default", base=None: filter_by(
                    lookup_dict, self._pillar, pillar, merge, default, base),
            "config.get": self.config_get,
            "config.option": self.config_get,
            "match.glob": lambda tgt, minion_id=None: self._match(tgt, "glob", minion_id),
            "match.list": lambda tgt, minion_id=None: self._match(tgt, "list", minion_id),
            "match.pcre": lambda tgt, minion_id=None: self._match(tgt, "pcre", minion_id),
            "match.grain": lambda tgt, delimiter=":": self._match(tgt, "grain", None),
            "match.grain_pcre": lambda tgt, delimiter=":": self._match(tgt, "grain_pcre", None),
            "match.compound": lambda tgt, minion_id=None: self._match(tgt, "compound", minion_id),
            "slsutil.merge": lambda a, b, strategy="smart", merge_lists=False: merge_recursive(
                a or {}, b or {}, merge_lists),
            "defaults.merge": self.defaults_merge,
            "defaults.deepcopy": lambda value: _deepcopy(value),
            "mine.get": self.mine_get,
            "test.true": lambda *a, **k: True,
            "test.false": lambda *a, **k: False,
            "grains.ls": lambda *a, **k: sorted(self._grains),
            "pillar.keys": self.pillar_keys,
            "network.ip_addrs": lambda interface=None, include_loopback=False, cidr=None,
                type=None: hostlookups.ip_addrs(self._grains, 4, interface, include_loopback,
                                                cidr, type),
            "network.ip_addrs6": lambda interface=None, include_loopback=False, cidr=None,
                **_: hostlookups.ip_addrs(self._grains, 6, interface, include_loopback, cidr),
            **hostlookups.helpers(file_list),
        }

    def __getitem__(self, name: str) -> Any:
        func = self._table.get(name)
        if func is not None:
            return func
        return missing_helper(name, self._table)

    def __getattr__(self, name: str) -> Any:
        """`salt.user.info(...)`: the helpers of one module, as attributes."""
        if not name.startswith("_") and any(k.startswith(f"{name}.") for k in self._table):
            return _HelperModule(self, name)
        raise AttributeError(name)

    def __contains__(self, name: object) -> bool:
        return name in self._table

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)

    def pillar_get(self, key: str, default: Any = "", merge: bool = False,
                   delimiter: str = ":", **_: Any) -> Any:
        """Salt's pillar.get: `a:b:c` path, `default` ('' unless given) when missing."""
        value = traverse(self._pillar, key, _MISSING, delimiter)
        if value is _MISSING:
            return default
        if merge and isinstance(value, Mapping) and isinstance(default, Mapping):
            return merge_recursive(default, value)
        return value

    def pillar_keys(self, key: str, delimiter: str = ":") -> list[str]:
        """Salt's pillar.keys: the keys of the mapping at `key`."""
        value = traverse(self._pillar, key, _MISSING, delimiter) if key else self._pillar
        if not isinstance(value, Mapping):
            raise RenderError(f"salt['pillar.keys']: pillar {key!r} is not a mapping")
        return list(value)

    def pillar_item(self, *keys: str, default: Any = "", delimiter: str = ":", **_: Any) -> dict:
        return {k: traverse(self._pillar, k, default, delimiter) for k in keys}

    def grains_get(self, key: str, default: Any = "", delimiter: str = ":", **_: Any) -> Any:
        """Salt's grains.get: `a:b` path, `default` ('' unless given) when missing."""
        value = traverse(self._grains, key, _MISSING, delimiter)
        return default if value is _MISSING else value

    def grains_item(self, *keys: str, default: Any = "", delimiter: str = ":", **_: Any) -> dict:
        return {k: traverse(self._grains, k, default, delimiter) for k in keys}

    def mine_get(self, tgt: str, fun: str, tgt_type: str = "glob", **_: Any) -> dict[str, Any]:
        """Salt's mine.get: {minion: value} of `fun` published by the minions `tgt` names and
        that this minion may read (the master decides)."""
        source = MINE_SOURCE.get()
        return {} if source is None else source(str(tgt), str(fun), str(tgt_type))

    def config_get(self, key: str, default: Any = "", delimiter: str = ":", **_: Any) -> Any:
        """Salt's config.get: the minion options, then grains, then pillar."""
        for source in (self._opts, self._grains, self._pillar):
            value = traverse(source, key, _MISSING, delimiter)
            if value is not _MISSING:
                return value
        return default

    def defaults_merge(self, dest: dict, upd: Mapping[str, Any], recursive_update: bool = True,
                       merge_lists: bool = False, in_place: bool = True) -> Any:
        merged = merge_recursive(dest, upd, merge_lists) if recursive_update else {**dest, **upd}
        if in_place and isinstance(dest, dict):
            dest.clear()
            dest.update(merged)
            return None
        return merged

    def _match(self, tgt: str, tgt_type: str, minion_id: str | None) -> bool:
        from core.targeting import matches
        return matches(minion_id or self._minion_id, self._grains, tgt, tgt_type)


class _HelperModule:
    """`salt.user`: attribute access to `salt['user.*']`; an unknown one is undefined."""

    def __init__(self, functions: TemplateFunctions, module: str) -> None:
        self._functions = functions
        self._module = module

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._functions[f"{self._module}.{name}"]

    def __getitem__(self, name: str) -> Any:
        return self._functions[f"{self._module}.{name}"]


def missing_helper(name: str, table: Mapping[str, Any]) -> Any:
    """An undefined value for `salt[name]`: `is defined` is false; using or calling it fails
    the render with a message naming the helper."""
    import jinja2

    hint = (f"salt[{name!r}] is not available in templates here (only read-only lookups are: "
            f"{', '.join(sorted(table))})")
    return jinja2.StrictUndefined(hint=hint, name=name)


def filter_by(lookup: Mapping[str, Any], data: Mapping[str, Any], path: str, merge: Any,
              default: str, base: str | None) -> Any:
    """Salt's filter_by: the entry of `lookup` whose key (a glob) matches the value at `path`
    in `data` (any item, if it is a list), else lookup[default]; then laid over lookup[base]
    and under `merge` (both recursively)."""
    import copy
    import fnmatch

    value = traverse(data, path, [])
    chosen: Any = None
    for item in value if isinstance(value, list) else [value]:
        for key in lookup:
            if fnmatch.fnmatchcase(str(item), str(key)):
                chosen = lookup[key]
                break
        if chosen is not None:
            break
    if chosen is None:
        chosen = lookup.get(default)
    if base and base in lookup:
        if chosen is None:
            chosen = lookup[base]
        elif isinstance(lookup[base], Mapping):
            if not isinstance(chosen, Mapping):
                raise RenderError("filter_by: the base entry and the match must both be mappings")
            chosen = merge_recursive(copy.deepcopy(dict(lookup[base])), chosen)
    if merge:
        if not isinstance(merge, Mapping):
            raise RenderError("filter_by: `merge` must be a mapping")
        extra = copy.deepcopy(dict(merge))
        chosen = extra if chosen is None else merge_recursive(chosen, extra)
    return chosen


def _deepcopy(value: Any) -> Any:
    import copy
    return copy.deepcopy(value)


def sls_context(minion_id: str, grains: Mapping[str, Any], pillar: Mapping[str, Any],
                opts: Mapping[str, Any] | None, sls: str,
                tplfile: str | None = None, *,
                file_list: Callable[[], Iterable[str]] | None = None) -> dict[str, Any]:
    """The standard Jinja context of an SLS file (also used, with sls='', for file templates).

    Variables, as Salt names them: grains, pillar, opts, salt, sls, saltenv, slspath,
    sls_path, slsdotpath, slscolonpath, tplfile, tpldir, tpldot, minion_id. `tplfile` is
    the file's path relative to the tree (`web/init.sls`); without it, the SLS is taken to
    be `a/b.sls` for `a.b`. slspath is the file's directory ("" at the root), tpldir the
    same but "." at the root. `file_list()` gives the tree's files for `cp.list_master`.
    """
    options: Mapping[str, Any] = opts or {}
    if "id" not in options:
        options = {**options, "id": minion_id}
    if tplfile is None:
        parts = sls.split(".") if sls else []
        slspath = "/".join(parts[:-1])
        tplfile = f"{sls.replace('.', '/')}.sls" if sls else ""
    else:
        slspath = tplfile.rpartition("/")[0]
    context = {
        "grains": grains,
        "pillar": pillar,
        "opts": options,
        "salt": TemplateFunctions(minion_id, grains, pillar, options, file_list),
        "saltenv": "base",
        "sls": sls,
        "slspath": slspath,
        "sls_path": slspath.replace("/", "_"),
        "slsdotpath": slspath.replace("/", "."),
        "slscolonpath": slspath.replace("/", ":"),
        "tpldir": slspath or ".",
        "tpldot": slspath.replace("/", "."),
        "minion_id": minion_id,
    }
    if tplfile:
        context["tplfile"] = tplfile
    return context
