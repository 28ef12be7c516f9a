"""Salt's serializer tags for Jinja: import_yaml / import_json / import_text, and load_* blocks.

    {% import_yaml 'nginx/defaults.yaml' as defaults %}     (resolved inside the tree)
    {% import_json './ports.json' as ports %}               (relative to this template)
    {% load_yaml as extra %}
    key: {{ value }}
    {% endload %}

The imported file is itself rendered with Jinja (with the importing template's globals:
grains, pillar, salt, ...) before it is parsed, as in Salt. YAML goes through the safe
loader of core.yamlload.
"""
from __future__ import annotations

import json
from typing import Any

from jinja2 import nodes
from jinja2.ext import Extension

from core.errors import RenderError

_KINDS = ("yaml", "json", "text")


class SerializerExtension(Extension):
    """The import_* and load_* tags."""

    tags = {f"{verb}_{kind}" for verb in ("import", "load") for kind in _KINDS}

    def parse(self, parser: Any) -> Any:
        token = next(parser.stream)
        verb, kind = token.value.split("_", 1)
        lineno = token.lineno
        if verb == "import":
            source = parser.parse_expression()
            parser.stream.expect("name:as")
            target = parser.parse_assign_target(name_only=True)
            call = self.call_method(
                "_import", [source, nodes.Const(kind), nodes.ContextReference()], lineno=lineno)
            return nodes.Assign(target, call, lineno=lineno)
        parser.stream.expect("name:as")
        target = parser.parse_assign_target(name_only=True)
        body = parser.parse_statements(("name:endload",), drop_needle=True)
        where = nodes.Const(f"load_{kind} block in {parser.name}")
        parse_call = self.call_method(
            "_parse", [nodes.Name(target.name, "load"), nodes.Const(kind), where], lineno=lineno)
        return [nodes.AssignBlock(target, None, body, lineno=lineno),
                nodes.Assign(nodes.Name(target.name, "store"), parse_call, lineno=lineno)]

    def _import(self, name: str, kind: str, context: Any) -> Any:
        template = self.environment.get_template(name, parent=context.name)
        text = template.render(context.parent)
        return self._parse(text, kind, template.name or name)

    @staticmethod
    def _parse(text: Any, kind: str, source: str) -> Any:
        text = str(text)
        if kind == "text":
            return text
        if kind == "json":
            try:
                return json.loads(text)
            except ValueError as exc:
                raise RenderError(f"{source}: not valid JSON: {exc}") from None
        from core.yamlload import load_yaml
        return load_yaml(text, source)
