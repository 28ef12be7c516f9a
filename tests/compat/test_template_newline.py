"""Item 6 of issue 13: a file rendered from a template ends exactly as Salt's does.

Recorded with Salt 3008.5 (`file.managed` with `template: jinja` from salt://, bytes read
back): Jinja drops the final newline, then Salt gives the template's own one back.
"""
from __future__ import annotations

import pytest

from core.render import render_template

SALT_3008 = [
    ('{{ "x" -}}\n', "x\n"),
    ("{% if True %}x{% endif -%}\n\n", "x\n"),
    ("x\n\n", "x\n\n"),
    ("x", "x"),
    ("x\n", "x\n"),
    ("{% if True %}\nx\n{% endif %}\n", "\nx\n\n"),
    ('{{ "x" }}\n\n\n', "x\n\n\n"),
    ("{% set a = 1 -%}\n", "\n"),
    ("x\r\n", "x\n"),
]


@pytest.mark.parametrize(("template", "salt_wrote"), SALT_3008)
def test_the_final_newline_is_salts(template, salt_wrote):
    assert render_template(template, "t", {}) == salt_wrote


def test_a_managed_file_from_a_template_is_byte_for_byte_salts(tree):
    files = {"nl/a": '{{ "x" -}}\n', "nl/f": "{% if True %}\nx\n{% endif %}\n",
             "nl.sls": """
             {% for f in 'af' %}
             nl-{{ f }}:
               file.managed:
                 - name: @HOST@/{{ f }}
                 - source: salt://nl/{{ f }}
                 - template: jinja
             {% endfor %}
             """}
    results = tree.run(tree.compile(files, ["nl"]))
    assert all(r["result"] for r in results.values())
    assert (tree.host / "a").read_bytes() == b"x\n"
    assert (tree.host / "f").read_bytes() == b"\nx\n\n"
