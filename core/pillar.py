"""Compile a pillar tree for one minion: its top.sls, each SLS rendered, merged in order.

    pillar = compile_pillar("/srv/pillar", "web1", grains)

Each SLS named by the pillar top.sls (and each SLS it includes, before it, once) is
rendered with Jinja (grains, opts, and the pillar merged so far) and YAML, then merged
recursively over the previous ones (dicts merge, other values are replaced). A missing
SLS, a file that does not render, or an SLS that is not a mapping raises RenderError
naming the file. `transform`, if given, gets the merged pillar and returns the pillar
to use (secret decryption plugs in there). No top.sls: an empty pillar.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Mapping

from core.datamerge import merge_recursive
from core.errors import RenderError, UnsafePathError
from core.slsname import SLS_NAME, resolve_relative



def compile_pillar(tree_dir: str, minion_id: str, grains: dict,
                   transform: Callable[[dict], dict] | None = None, *,
                   opts: Mapping[str, Any] | None = None, trust_grains: bool = True) -> dict:
    """The pillar of `minion_id`.

    With `trust_grains=False` (the master), grains are minion-supplied (SECURITY.md rule 3): an
    SLS that only a grain match in top.sls gives this minion (or that such an SLS includes) may
    hold plain data but no secret (`ENC[...]`); a secret there is a RenderError naming the file.
    """
    from core.render import render_sls_located, sls_context
    from core.top import render_top

    root = os.path.realpath(tree_dir)
    if not os.path.isdir(root):
        raise RenderError(f"the pillar tree {tree_dir} is not a directory")
    top_text = _read_top(root)
    if top_text is None:
        pillar: dict = {}
        return transform(pillar) if transform else pillar
    grain_only: set[str] | None = None if trust_grains else set()
    names = render_top(top_text, "top.sls", minion_id, grains, {}, opts, root,
                       trust_grains=trust_grains, grain_only=grain_only)
    pillar = {}
    done: set[str] = set()

    def add(name: str, requested_by: str, via_grains: bool) -> None:
        nonlocal pillar
        if name in done:
            return
        done.add(name)
        relpath, path = _find_sls(root, name, requested_by)
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        context = sls_context(minion_id, grains, pillar, opts, name, relpath)
        data, lines = render_sls_located(text, relpath, context, root)
        if data is None:
            return
        if not isinstance(data, Mapping):
            raise RenderError(f"a pillar SLS must be a mapping, not a {type(data).__name__}",
                              location=f"{relpath}:1")
        if via_grains:
            _refuse_secrets(data, relpath, lines, minion_id)
        includes = data.get("include") or []
        for inc in includes if isinstance(includes, list) else [includes]:
            where = f"{relpath}:{lines.get('include', 1)}"
            target = resolve_relative(name, relpath, str(inc))
            if target is None:
                raise RenderError(f"include {inc!r} goes above the top of the pillar tree", location=where)
            add(target, where, via_grains)
        pillar = merge_recursive(pillar, {k: v for k, v in data.items() if k != "include"})

    for sls in names:
        add(sls, "top.sls", grain_only is not None and sls in grain_only)
    return transform(pillar) if transform else pillar


def _refuse_secrets(data: Mapping[str, Any], relpath: str, lines: Mapping[Any, int], minion_id: str) -> None:
    from core.secrets import is_token

    def holds_secret(value: Any) -> bool:
        if isinstance(value, Mapping):
            return any(holds_secret(v) for v in value.values())
        if isinstance(value, list):
            return any(holds_secret(v) for v in value)
        return is_token(value)

    for key, value in data.items():
        if holds_secret(value):
            raise RenderError(
                f"{key!r} holds a secret (ENC[...]), but this file reaches {minion_id!r} only through "
                "a grain match in top.sls; grains are reported by the minion, so give secrets by "
                "minion id (a glob, list or pcre target)", location=f"{relpath}:{lines.get(key, 1)}")


def _find_sls(root: str, name: str, requested_by: str) -> tuple[str, str]:
    """(path relative to the tree, real path) of the pillar SLS `name`."""
    from core.safepath import safe_regular_file

    if not SLS_NAME.match(name):
        raise RenderError(f"{name!r} is not a valid pillar SLS name", location=requested_by)
    base = name.replace(".", "/")
    for rel in (f"{base}.sls", f"{base}/init.sls"):
        try:
            return rel, safe_regular_file(root, rel)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except UnsafePathError as exc:
            raise RenderError(f"pillar SLS {name!r}: {exc}", location=requested_by) from None
    raise RenderError(f"pillar SLS {name!r} not found (no {base}.sls or {base}/init.sls)",
                      location=requested_by)


def _read_top(root: str) -> str | None:
    """The tree's top.sls, or None when it has none."""
    from core.safepath import safe_regular_file

    try:
        path = safe_regular_file(root, "top.sls")
    except FileNotFoundError:
        return None
    with open(path, encoding="utf-8") as handle:
        return handle.read()
