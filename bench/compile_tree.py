"""Time the state compiler on a generated 300-state tree (render + compile, no host access).

    .venv/bin/python bench/compile_tree.py [--states 300] [--rounds 20]

Prints the cold (first) compile and the median of warm compiles, in milliseconds.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def make_tree(root: Path, states: int, per_file: int = 20) -> list[str]:
    """SLS files of `per_file` states each: Jinja loops over pillar, requisites, names, includes."""
    names = []
    files = (states + per_file - 1) // per_file
    for f in range(files):
        name = f"role{f:02d}"
        names.append(name)
        lines = ["{% set cfg = salt['pillar.get']('roles:" + name + "', {}) %}"]
        if f:
            lines.append(f"include:\n  - role{f - 1:02d}")
        lines.append(f"{{% for i in range({per_file}) %}}")
        lines += [
            f"{name}_file_{{{{ i }}}}:",
            "  file.managed:",
            f"    - name: /srv/app/{name}/{{{{ i }}}}.conf",
            "    - contents: {{ cfg.get('greeting', 'hi')|yaml_encode }}",
            "    - mode: 0644",
            "{% if i > 0 %}",
            "    - require:",
            f"      - file: {name}_file_{{{{ i - 1 }}}}",
            "{% endif %}",
            "{% if i % 5 == 0 %}",
            "    - watch_in:",
            f"      - cmd: {name}_reload",
            "{% endif %}",
            "{% endfor %}",
            f"{name}_reload:",
            "  cmd.run:",
            f"    - name: echo reload {name}",
            "    - onchanges:",
            f"      - sls: {name}",
        ]
        (root / f"{name}.sls").write_text("\n".join(lines) + "\n")
    (root / "top.sls").write_text("base:\n  '*':\n" + "".join(f"    - {n}\n" for n in names))
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--states", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--cachedir", default=None,
                        help="opts cachedir: compiled Jinja code kept there for later processes "
                             "(run twice to see the second process)")
    args = parser.parse_args()
    opts = {"cachedir": args.cachedir} if args.cachedir else None
    from minion.state.compiler import compile_highstate
    from minion.state.tree import StateTree

    with tempfile.TemporaryDirectory() as tmp:
        if args.cachedir:   # the same tree path each run, so the cache can hit
            tmp = args.cachedir + "/tree"
            Path(tmp).mkdir(parents=True, exist_ok=True)
        make_tree(Path(tmp), args.states)
        pillar = {"roles": {f"role{i:02d}": {"greeting": f"hello {i}"} for i in range(50)}}
        tree = StateTree(tmp)
        t0 = time.perf_counter()
        import jinja2.sandbox  # noqa: F401  (the runner's process imports these anyway)
        from minion import states
        for module in ("file", "cmd"):
            states.lookup(module, "run" if module == "cmd" else "managed")
        imports = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        plan = compile_highstate(tree, "web1", {"os": "Debian"}, pillar, opts)
        cold = (time.perf_counter() - t0) * 1000
        warm = []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            compile_highstate(tree, "web1", {"os": "Debian"}, pillar, opts)
            warm.append((time.perf_counter() - t0) * 1000)
    print(f"chunks: {len(plan.chunks)}  edges: {sum(len(c.edges) for c in plan.chunks)}")
    print(f"imports (jinja2, file and cmd state modules): {imports:.1f} ms")
    print(f"compile, first in process: {cold:.1f} ms")
    print(f"compile, warm median of {args.rounds}: {statistics.median(warm):.1f} ms")


if __name__ == "__main__":
    main()
