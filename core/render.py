"""Render SLS files (Jinja, then YAML) and file templates (Jinja), as Salt does.

The Jinja environment matches Salt's defaults: sandboxed, StrictUndefined (an undefined
variable is an error unless opts has `allow_undefined: true`), the `do` and
`loopcontrols` extensions, and Salt's final newline: whatever the tags did with it, a
template that ends in a newline renders ending in one (more if the text kept more). Its loader is rooted at the tree:
`{% import 'x/map.jinja' as m %}`, `{% from './map.jinja' import m %}` and
`{% include %}` resolve inside the tree only (core.safepath). Salt's common filters
come from core.templatefilters, the context from core.templatecontext.

Every failure is a RenderError whose location is `file:line` of the template that failed
(an imported file names itself, not its importer).

    >>> ctx = sls_context("web1", {"os": "Debian"}, {"port": 80}, {}, "web")
    >>> render_sls("nginx:\\n  pkg.installed: []\\n# {{ pillar.port }}\\n", "web.sls", ctx, "/srv")
    {'nginx': {'pkg.installed': []}}
"""
from __future__ import annotations

import functools
import os
import posixpath
import sys
from typing import Any, Callable, Mapping

from core.errors import LinkpeekError, RenderError, UnsafePathError
from core.templatecontext import sls_context

__all__ = ["render_sls", "render_sls_located", "render_template", "sls_context"]

_JINJA_MARKERS = ("{{", "{%", "{#")
_PIPES = {("jinja", "yaml"), ("yaml",), ("jinja",)}


def render_sls(text: str, source: str, context: dict, tree_root: str) -> Any:
    """Render an SLS file's text: Jinja with `context`, then YAML. `source` names it in errors."""
    return render_sls_located(text, source, context, tree_root)[0]


def render_sls_located(text: str, source: str, context: dict,
                       tree_root: str | None) -> tuple[Any, dict[Any, int]]:
    """render_sls, also returning the line of each top-level key in the rendered text."""
    from core import rendercache

    cache = rendercache.active()
    if cache is not None:
        return cache.lookup("sls", text, source, context, tree_root, lambda: _env_for(context, tree_root),
                            lambda: _render_sls_located(text, source, context, tree_root))
    return _render_sls_located(text, source, context, tree_root)


def _render_sls_located(text: str, source: str, context: dict,
                        tree_root: str | None) -> tuple[Any, dict[Any, int]]:
    from core.yamlload import load_yaml_located

    pipe = _renderer_pipe(text, source)
    rendered = text
    if "jinja" in pipe and any(m in text for m in _JINJA_MARKERS):
        rendered = render_template(text, source, context, tree_root)
    if "yaml" not in pipe:
        raise RenderError("an SLS must end in the yaml renderer", location=f"{source}:1")
    return load_yaml_located(rendered, source)


def render_template(text: str, source: str, context: Mapping[str, Any],
                    tree_root: str | None = None) -> str:
    """Render `text` as a Jinja template with `context` (file.managed `template: jinja`)."""
    from core import rendercache

    cache = rendercache.active()
    if cache is not None:
        return cache.lookup("template", text, source, context, tree_root,
                            lambda: _env_for(context, tree_root),
                            lambda: _render_template(text, source, context, tree_root))
    return _render_template(text, source, context, tree_root)


def _env_for(context: Mapping[str, Any], tree_root: str | None) -> Any:
    allow_undefined = bool((context.get("opts") or {}).get("allow_undefined", False))
    root = (_realpath(tree_root) if os.path.isabs(tree_root) else os.path.realpath(tree_root)) \
        if tree_root else None
    return _environment(root, allow_undefined)


@functools.lru_cache(maxsize=64)
def _realpath(path: str) -> str:
    return os.path.realpath(path)


def _render_template(text: str, source: str, context: Mapping[str, Any],
                     tree_root: str | None = None) -> str:
    import jinja2

    env = _env_for(context, tree_root)
    variables = dict(context)
    variables.setdefault("tplfile", source)
    variables.setdefault("tplpath", source)
    try:
        code = _compile(env, text, source, _code_cache_dir(context))
        template = env.template_class.from_code(env, code, env.make_globals(variables))
        rendered = template.render()
        # As Salt: Jinja drops the final newline, and the template's own is given back, so
        # `{{ x -}}` then a newline renders `x` and that newline.
        return rendered + "\n" if text.endswith("\n") else rendered
    except jinja2.TemplateSyntaxError as exc:
        where = exc.filename or exc.name or source
        raise RenderError(f"Jinja syntax error: {exc.message}",
                          location=f"{where}:{exc.lineno}") from None
    except jinja2.TemplateNotFound as exc:
        raise RenderError(f"template {exc.name!r} not found in the tree{_tree_hint(tree_root)}",
                          location=_locate(sys.exc_info()[2], source)) from None
    except jinja2.UndefinedError as exc:
        message = str(exc.message)
        raise RenderError(message if message.startswith("salt[") else f"Jinja variable {message}",
                          location=_locate(sys.exc_info()[2], source)) from None
    except jinja2.exceptions.SecurityError as exc:
        raise RenderError(f"refused by the template sandbox: {exc}",
                          location=_locate(sys.exc_info()[2], source)) from None
    except RenderError as exc:
        if exc.location:
            raise
        raise RenderError(str(exc), location=_locate(sys.exc_info()[2], source)) from None
    except (LinkpeekError, jinja2.TemplateError, ArithmeticError, LookupError, TypeError,
            ValueError, AttributeError, RecursionError) as exc:
        raise RenderError(f"{type(exc).__name__}: {exc}",
                          location=_locate(sys.exc_info()[2], source)) from None


def _renderer_pipe(text: str, source: str) -> tuple[str, ...]:
    """Salt's `#!jinja|yaml` first line; the default is jinja|yaml."""
    if not text.startswith("#!"):
        return ("jinja", "yaml")
    first = text.split("\n", 1)[0][2:].strip()
    pipe = tuple(p.strip() for p in first.split("|") if p.strip())
    if pipe not in _PIPES:
        raise RenderError(f"renderer {first!r} is not supported; use jinja|yaml or yaml",
                          location=f"{source}:1")
    return pipe


def _tree_hint(tree_root: str | None) -> str:
    return f" ({tree_root})" if tree_root else " (no tree: a template given as text cannot import)"


def _locate(tb: Any, default_source: str) -> str:
    """`file:line` of the innermost template frame in a traceback Jinja has rewritten."""
    found = None
    while tb is not None:
        code = tb.tb_frame.f_code
        name = code.co_filename
        if name and not name.endswith(".py") and not name.startswith("<"):
            found = f"{name}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found or default_source


@functools.lru_cache(maxsize=8)
def _environment(tree_root: str | None, allow_undefined: bool) -> Any:
    import jinja2
    import jinja2.sandbox

    from core.templatefilters import FILTERS, TESTS

    class TreeEnvironment(jinja2.sandbox.SandboxedEnvironment):
        def join_path(self, template: str, parent: str) -> str:
            """`./x` and `../x` are relative to the importing template, as in Salt."""
            if template.startswith(("./", "../")):
                return posixpath.normpath(posixpath.join(posixpath.dirname(parent), template))
            return template

    env = TreeEnvironment(
        loader=_TreeLoader(tree_root) if tree_root else None,
        undefined=jinja2.Undefined if allow_undefined else jinja2.StrictUndefined,
        extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols",
                    "core.templateext.SerializerExtension"],
        keep_trailing_newline=False,  # render_template gives the template's own newline back
        autoescape=False,
        auto_reload=True,
    )
    env.filters.update(FILTERS)
    env.tests.update(TESTS)
    return env


@functools.lru_cache(maxsize=512)
def _compile_cached(env: Any, text: str, source: str) -> Any:
    return env.compile(text, name=source, filename=source)


def _compile(env: Any, text: str, source: str, cache_dir: str | None) -> Any:
    """Jinja's compiled code for `text`: from memory, else from the on-disk cache, else compiled.

    The disk cache (opts['cachedir']/jinja-code, 0700, files 0600) spares later processes
    the compile; it is used only when the directory is ours and not writable by others.
    """
    if cache_dir is None:
        return _compile_cached(env, text, source)
    return _disk_cached(env, text, source, cache_dir)


@functools.lru_cache(maxsize=512)
def _disk_cached(env: Any, text: str, source: str, cache_dir: str) -> Any:
    import marshal

    import jinja2

    from core.digest import sha256
    from core.rendercache import prune_oldest, write_private

    parts = (sys.version, jinja2.__version__, _CODE_CACHE_VERSION, str(env.undefined.__name__),
             source, text)
    key = sha256("\0".join(parts).encode()).hexdigest()
    path = os.path.join(cache_dir, key)
    try:
        with open(path, "rb") as handle:
            return marshal.loads(handle.read())
    except (OSError, ValueError, EOFError, TypeError):
        pass
    code = env.compile(text, name=source, filename=source)
    if write_private(path, marshal.dumps(code)):
        prune_oldest(cache_dir, CODE_CACHE_KEEP)
    return code


CODE_CACHE_KEEP = 512  # compiled templates kept in <cachedir>/jinja-code (newest by mtime)
_CODE_CACHE_VERSION = "2"  # 2: keep_trailing_newline off (the lexer's output differs)


def _code_cache_dir(context: Mapping[str, Any]) -> str | None:
    """opts['cachedir']/jinja-code when it is safe to use (ours, 0700), else None."""
    from core.rendercache import private_subdir

    cachedir = (context.get("opts") or {}).get("cachedir")
    if not cachedir or not isinstance(cachedir, str) or not os.path.isdir(cachedir):
        return None
    return private_subdir(cachedir, "jinja-code")


class _TreeLoader:
    """A Jinja loader serving files of one tree only (no `..`, no absolute path, no symlink out)."""

    has_source_access = True

    def __init__(self, root: str) -> None:
        self.root = root

    def get_source(self, environment: Any, template: str) -> tuple[str, str, Callable[[], bool]]:
        import jinja2

        from core.safepath import safe_regular_file
        try:
            path = safe_regular_file(self.root, template)
        except (FileNotFoundError, UnsafePathError) as exc:
            raise jinja2.TemplateNotFound(template, f"{template!r}: {exc}") from None
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        mtime = os.path.getmtime(path)
        return text, template, lambda: os.path.exists(path) and os.path.getmtime(path) == mtime

    def load(self, environment: Any, name: str, globals: Any = None) -> Any:
        import jinja2
        return jinja2.BaseLoader.load(self, environment, name, globals)  # type: ignore[arg-type]

    def list_templates(self) -> list[str]:
        return []
