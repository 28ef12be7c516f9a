"""locale.present (the locale is generated) and locale.system (the host's LANG).

    en_US.UTF-8:
      locale.present: []
    de_DE.UTF-8:
      locale.system: []

As Salt does on Debian: present enables the locale's line in /etc/locale.gen (from
/usr/share/i18n/SUPPORTED) and runs locale-gen; system sets LANG in /etc/default/locale (what
update-locale writes), keeping its other lines. A locale counts as there when `locale -a`
lists it (`en_US.utf8` is en_US.UTF-8). Changes: `{locale: NAME}`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from core.errors import StateArgError
from minion.providers.atomic import write_atomic
from minion.providers.process import run, run_ok
from minion.providers.safefs import read_file
from minion.state.contract import ExecContext, Pending, StateFailed
from minion.states.specargs import check_known

LOCALE = re.compile(r"^[A-Za-z]{1,8}(_[A-Za-z0-9]{1,8})?(\.[A-Za-z0-9-]{1,20})?(@[A-Za-z0-9]{1,20})?$")
LOCALE_GEN = "/etc/locale.gen"
SUPPORTED = "/usr/share/i18n/SUPPORTED"
DEFAULT_LOCALE = "/etc/default/locale"


@dataclass(frozen=True)
class LocaleSpec:
    name: str


def normalize(name: str) -> str:
    """`en_US.UTF-8` and `en_US.utf8` are one locale (as `locale -a` spells them)."""
    base, dot, rest = name.partition(".")
    if not dot:
        return name
    charset, at, modifier = rest.partition("@")
    return f"{base}.{charset.lower().replace('-', '')}{at}{modifier}"


def available() -> set[str]:
    result = run(["locale", "-a"])
    return {normalize(line.strip()) for line in result.stdout.splitlines() if line.strip()}


def _parse(where: str, name: str, args: Mapping[str, Any]) -> LocaleSpec:
    check_known(where, args, ())
    if not isinstance(name, str) or not LOCALE.match(name):
        raise StateArgError(f"{where}: {name!r} is not a locale name (e.g. en_US.UTF-8)")
    return LocaleSpec(name)


def _text(path: str) -> str:
    data = read_file(path)
    return "" if data is None else data.decode("utf-8", "replace")


class Present:
    """locale.present"""

    def parse(self, name: str, args: Mapping[str, Any]) -> LocaleSpec:
        return _parse("locale.present", name, args)

    def check(self, ctx: ExecContext, spec: LocaleSpec) -> Pending:
        if normalize(spec.name) in available():
            return Pending(comment=f"Locale {spec.name} is already present")
        return Pending(changes={"locale": spec.name},
                       comment=f"Locale {spec.name} is set to be added",
                       applied_comment=f"Generated locale {spec.name}")

    def apply(self, ctx: ExecContext, spec: LocaleSpec, pending: Pending) -> dict[str, Any]:
        entry = next((ln.strip() for ln in _text(SUPPORTED).splitlines()
                      if ln.strip().split(" ")[0] == spec.name), None)
        if entry is None:
            raise StateFailed(f"{spec.name} is not in {SUPPORTED}: no such locale on this host")
        lines = _text(LOCALE_GEN).splitlines()
        out, found = [], False
        for line in lines:
            if line.lstrip("# ").strip() == entry:
                out.append(entry)
                found = True
            else:
                out.append(line)
        if not found:
            out.append(entry)
        write_atomic(LOCALE_GEN, "".join(f"{ln}\n" for ln in out), 0o644)
        run_ok(["locale-gen"], what="locale-gen", hint="Is the locales package installed?")
        if normalize(spec.name) not in available():
            raise StateFailed(f"locale-gen ran but {spec.name} is still not available")
        return dict(pending.changes)


class System:
    """locale.system"""

    def parse(self, name: str, args: Mapping[str, Any]) -> LocaleSpec:
        return _parse("locale.system", name, args)

    def check(self, ctx: ExecContext, spec: LocaleSpec) -> Pending:
        current = _lang(_text(DEFAULT_LOCALE))
        if current == spec.name:
            return Pending(comment=f"System locale {spec.name} already set")
        return Pending(changes={"locale": spec.name},
                       comment=f"System locale {spec.name} needs to be set",
                       applied_comment=f"Set system locale {spec.name}")

    def apply(self, ctx: ExecContext, spec: LocaleSpec, pending: Pending) -> dict[str, Any]:
        lines = [ln for ln in _text(DEFAULT_LOCALE).splitlines()
                 if not ln.strip().startswith("LANG=")]
        write_atomic(DEFAULT_LOCALE, "".join(f"{ln}\n" for ln in [f"LANG={spec.name}", *lines]),
                     0o644)
        return dict(pending.changes)


def _lang(text: str) -> str | None:
    for line in text.splitlines():
        if line.strip().startswith("LANG="):
            return line.split("=", 1)[1].strip().strip("\"'")
    return None


FUNCTIONS = {"present": Present(), "system": System()}
