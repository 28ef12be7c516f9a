"""Salt's mine, the part both sides share: `mine_functions` in pillar, read as Salt reads it.

    mine_functions:
      network.ip_addrs: [eth0]            # a function with its arguments
      network.ip_addrs:                   # or keyword arguments
        interface: eth0
      db_address:                         # an alias, with who may read it
        - mine_function: network.ip_addrs
        - interface: eth0
        - allow_tgt: 'web*'
        - allow_tgt_type: glob
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from core.errors import WireError

MAX_FUNCTIONS = 50


@dataclass(frozen=True)
class MineFunction:
    name: str                     # what readers ask for (the alias, or the function)
    function: str                 # the execution function the minion runs
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    allow_tgt: str | None = None
    allow_tgt_type: str = "glob"


def parse_mine_functions(declared: Any) -> dict[str, MineFunction]:
    """{name: MineFunction} from pillar's `mine_functions` (nothing when absent)."""
    if declared in (None, "", {}):
        return {}
    if not isinstance(declared, Mapping):
        raise WireError("mine_functions must be a mapping of function: arguments")
    out: dict[str, MineFunction] = {}
    for name, spec in declared.items():
        if len(out) >= MAX_FUNCTIONS:
            raise WireError(f"mine_functions: at most {MAX_FUNCTIONS} functions")
        name = str(name)
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        items = spec if isinstance(spec, list) else ([spec] if spec not in (None, "") else [])
        for item in items:
            if isinstance(item, Mapping):
                kwargs.update({str(k): v for k, v in item.items()})
            else:
                args.append(item)
        function = str(kwargs.pop("mine_function", name))
        allow_tgt = kwargs.pop("allow_tgt", None)
        allow_tgt_type = str(kwargs.pop("allow_tgt_type", "glob"))
        out[name] = MineFunction(name, function, tuple(args), kwargs,
                                 None if allow_tgt is None else str(allow_tgt), allow_tgt_type)
    return out
