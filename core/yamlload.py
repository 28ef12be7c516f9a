"""Safe YAML loading for SLS, top and pillar files, with Salt's scalar quirks.

What this loader does, and why:

- Safe construction only; any tag outside plain YAML data (`!!python/...`, `!custom`,
  `!!binary`, `!!set`, `!!omap`, `!!pairs`) is refused.
- Mappings keep declaration order (Python dicts), and a key given twice in one mapping
  is an error: in an SLS that is two states with the same ID.
- Salt's scalar rules: an integer written with leading zeros is read as decimal with the
  zeros dropped (`mode: 0600` -> 600, which file states then read as octal 0600);
  timestamps stay strings (`2014-01-20` -> "2014-01-20"); `1.24.0` is a string;
  yes/no/on/off/true/false (any case PyYAML accepts) are booleans, as in YAML 1.1.
- Errors are `RenderError("what", location="file:line")`.
- Cost limits (SECURITY.md rule 9): a document over MAX_YAML_BYTES, one whose aliases
  expand it beyond MAX_YAML_NODES nodes (a "billion laughs" bomb), or with more than
  MAX_YAML_ALIASES alias uses is refused before anything is built from it. `load_plain`
  applies the same limits with plain YAML semantics (master.yaml, minion.yaml).

    >>> load_yaml("mode: 0600\\nversion: 1.24.0\\nenabled: yes\\n", "x.sls")
    {'mode': 600, 'version': '1.24.0', 'enabled': True}
"""
from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from core.errors import RenderError

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_YAML_BYTES = 8 * 1024 * 1024
MAX_YAML_NODES = 1_000_000       # counting each alias use as a copy of what it names
MAX_YAML_ALIASES = 10_000

_INT_TAG = "tag:yaml.org,2002:int"
_REFUSED_STANDARD_TAGS = ("binary", "set", "omap", "pairs", "python/unicode")


class _DuplicateKey(yaml.MarkedYAMLError):
    """Raised inside construction; turned into a RenderError by load_yaml."""


class _RefusedTag(yaml.MarkedYAMLError):
    pass


class SlsLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """A safe loader with duplicate-key refusal and Salt's integer and timestamp rules."""

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, MappingNode):
            raise yaml.constructor.ConstructorError(
                None, None, f"expected a mapping, found {node.id}", node.start_mark)
        self.flatten_mapping(node)
        mapping: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping", node.start_mark,
                    f"a list or mapping cannot be a key ({key_node.id})",
                    key_node.start_mark) from None
            if key in mapping:
                raise _DuplicateKey(
                    None, None,
                    f"duplicate key {key!r} (first defined at line {first_line[key]})",
                    key_node.start_mark)
            mapping[key] = self.construct_object(value_node, deep=deep)
            first_line[key] = key_node.start_mark.line + 1
        return mapping

    def construct_salt_int(self, node: ScalarNode) -> int:
        text = str(node.value)
        if len(text) > 1 and text.startswith("0") and not text.startswith(("0b", "0x")):
            digits = text.lstrip("0").replace("_", "") or "0"
            return int(digits, 10)
        return int(self.construct_yaml_int(node))

    def construct_timestamp_as_str(self, node: ScalarNode) -> str:
        return str(self.construct_scalar(node))

    def refuse_tag(self, node: Node) -> Any:
        raise _RefusedTag(None, None, f"the tag {node.tag!r} is not allowed (plain YAML data only)",
                          node.start_mark)


SlsLoader.add_constructor(_INT_TAG, SlsLoader.construct_salt_int)
SlsLoader.add_constructor("tag:yaml.org,2002:timestamp", SlsLoader.construct_timestamp_as_str)
SlsLoader.add_constructor("tag:yaml.org,2002:map",
                          yaml.constructor.SafeConstructor.construct_yaml_map)
for _tag in _REFUSED_STANDARD_TAGS:
    SlsLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", SlsLoader.refuse_tag)
SlsLoader.add_constructor(None, SlsLoader.refuse_tag)


def load_yaml(text: str, source: str) -> Any:
    """Parse one YAML document from `text`; `source` names the file in error messages."""
    return load_yaml_located(text, source)[0]


def load_yaml_located(text: str, source: str) -> tuple[Any, dict[Any, int]]:
    """Parse `text`; also return the 1-based line of each top-level key (for error messages)."""
    _check_size(text, source)
    loader = SlsLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        check_limits(node, source)
        lines: dict[Any, int] = {}
        if isinstance(node, MappingNode):
            for key_node, _ in node.value:
                if isinstance(key_node, ScalarNode):
                    lines.setdefault(key_node.value, key_node.start_mark.line + 1)
        data = loader.construct_document(node)
        return data, lines
    except yaml.MarkedYAMLError as exc:
        raise _render_error(exc, source, text) from None
    except yaml.YAMLError as exc:
        raise RenderError(f"YAML error: {exc}", location=source) from None
    except (ValueError, OverflowError) as exc:  # e.g. an impossible date-like scalar
        raise RenderError(f"YAML error: {exc}", location=source) from None
    finally:
        loader.dispose()


def load_plain(text: str, source: str) -> Any:
    """Plain safe YAML (no Salt scalar rules) within the cost limits: for config files.

    RenderError for a limit; yaml.YAMLError for bad YAML (the caller words it)."""
    _check_size(text, source)
    loader = _BaseLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        check_limits(node, source)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_size(text: str, source: str) -> None:
    if len(text) > MAX_YAML_BYTES:
        raise RenderError(f"the YAML document is larger than {MAX_YAML_BYTES // (1024 * 1024)} MiB; refused",
                          location=source)


def check_limits(root: Node, source: str) -> None:
    """RenderError when the composed document's aliases expand it too far (or are too many).

    Aliases are shared nodes in the composed graph. Without any (the usual case) one pass
    counts the nodes; with some, each container's expanded size is counted once (memoised),
    so the check costs the graph's size, not the bomb's. Scalars cannot nest, so an alias
    to one costs nothing and is not followed.
    """
    stack: list[Node] = [root]
    seen: set[int] = set()
    nodes = 1
    while stack:
        node = stack.pop()
        if isinstance(node, ScalarNode):
            continue
        if id(node) in seen:
            _check_expansion(root, source)   # shared (aliased) containers: count them out
            return
        seen.add(id(node))
        kids = _children(node)
        nodes += len(kids)
        stack.extend(k for k in kids if not isinstance(k, ScalarNode))
    if nodes > MAX_YAML_NODES:
        raise RenderError(f"the YAML document has more than {MAX_YAML_NODES} nodes; refused", location=source)


def _check_expansion(root: Node, source: str) -> None:
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    referenced: set[int] = set()
    aliases = 0
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, closing = stack.pop()
        nid = id(node)
        kids = _children(node)
        if closing:
            open_nodes.discard(nid)
            total = 1 + sum(sizes.get(id(k), 1) for k in kids)
            if total > MAX_YAML_NODES:
                raise RenderError(f"YAML aliases expand this document beyond {MAX_YAML_NODES} nodes; "
                                  "refused", location=f"{source}:{node.start_mark.line + 1}")
            sizes[nid] = total
            continue
        if nid in sizes or nid in open_nodes:
            continue
        open_nodes.add(nid)
        stack.append((node, True))
        for kid in kids:
            if isinstance(kid, ScalarNode):
                continue
            kid_id = id(kid)
            if kid_id in open_nodes:
                raise RenderError("a YAML alias refers to the node that contains it; refused",
                                  location=f"{source}:{kid.start_mark.line + 1}")
            if kid_id in referenced:
                aliases += 1
                if aliases > MAX_YAML_ALIASES:
                    raise RenderError(f"more than {MAX_YAML_ALIASES} YAML alias uses; refused",
                                      location=f"{source}:{kid.start_mark.line + 1}")
            referenced.add(kid_id)
            stack.append((kid, False))


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, ScalarNode):
        return []
    return list(node.value)


def _render_error(exc: yaml.MarkedYAMLError, source: str, text: str) -> RenderError:
    mark = exc.problem_mark or exc.context_mark
    what = exc.problem or "YAML error"
    if exc.context and not isinstance(exc, (_DuplicateKey, _RefusedTag)):
        what = f"{what} ({exc.context}"
        if exc.context_mark is not None and exc.problem_mark is not None \
                and exc.context_mark.line != exc.problem_mark.line:
            what += f" at line {exc.context_mark.line + 1}"
        what += ")"
    if mark is None:
        return RenderError(what, location=source)
    line_no = mark.line + 1
    lines = text.splitlines()
    if 0 < line_no <= len(lines) and lines[line_no - 1].strip():
        what += f"\n    {line_no} | {lines[line_no - 1].rstrip()}"
    if "\t" in text and "\t" in (lines[line_no - 1] if 0 < line_no <= len(lines) else ""):
        what += "\n    (YAML does not allow tabs for indentation)"
    return RenderError(what, location=f"{source}:{line_no}")
