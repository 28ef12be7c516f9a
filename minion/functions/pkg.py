"""pkg.*: Debian packages (apt and dpkg), as Salt's pkg module on Debian.

    lpmaster run '*' pkg.version nginx                 "1.22.1-9" ("" when not installed)
    lpmaster run '*' pkg.version nginx curl            {name: version}
    lpmaster run web1 pkg.install nginx refresh=True   {name: {old, new}} of what changed
    lpmaster run web1 pkg.install pkgs='[nginx, curl]'
    lpmaster run web1 pkg.install nginx version=1.22.1-9
    lpmaster run web1 pkg.remove nginx                 (pkg.purge also removes its config)
    lpmaster run web1 pkg.upgrade                      every package; dist_upgrade=True as apt's
    lpmaster run '*' pkg.list_pkgs                     {name: version}
    lpmaster run '*' pkg.latest_version nginx          a newer candidate, or "" when up to date

Changes are what dpkg shows before and after (dependencies included), as Salt reports them.
"""
from __future__ import annotations

from typing import Any

from minion.functions import FunctionResult
from minion.functions.signature import FunctionArgError


def list_pkgs(ctx: Any, versions_as_list: bool = False) -> dict[str, Any]:
    """{name: version} of every installed package ({name: [version]} with versions_as_list=True)."""
    from minion.providers import apt

    pkgs = apt.installed()
    return {n: [v] for n, v in pkgs.items()} if versions_as_list else pkgs


def version(ctx: Any, *names: str) -> Any:
    """The installed version of one package ("" when it is not installed); {name: version} of several."""
    from minion.providers import apt

    wanted = _names("pkg.version", list(names))
    found = {n: s.installed or "" for n, s in apt.status(wanted).items()}
    return found[wanted[0]] if len(wanted) == 1 else found


def latest_version(ctx: Any, *names: str, refresh: bool = False) -> Any:
    """The version apt would install when newer than the installed one, else ""; {name: ...} of several."""
    from minion.providers import apt

    wanted = _names("pkg.latest_version", list(names))
    if refresh:
        apt.refresh()
    installed = apt.status(wanted)
    candidates = apt.policy(wanted)
    out = {}
    for name in wanted:
        candidate = (candidates.get(name) or (None, []))[0]
        out[name] = candidate if candidate and candidate != installed[name].installed else ""
    return out[wanted[0]] if len(wanted) == 1 else out


def install(ctx: Any, name: str | None = None, pkgs: Any = None, version: str | None = None,
            refresh: bool = False, fromrepo: str | None = None) -> FunctionResult:
    """Install `name` (at `version`) or the list `pkgs` (names, or {name: version} maps) in one
    apt-get call; {name: {old, new}} of every package that changed."""
    from minion.providers import apt

    targets = _targets("pkg.install", name, pkgs, version)
    have = apt.status([t.split("=")[0] for t in targets])
    missing = [t for t in targets if not _satisfied(t, have)]
    if not missing and not refresh:
        return FunctionResult({})
    return _changing(lambda: (apt.refresh() if refresh else None, missing and apt.install(missing, fromrepo)))


def remove(ctx: Any, name: str | None = None, pkgs: Any = None) -> FunctionResult:
    """Remove `name` or the list `pkgs` (their config files stay); {name: {old, new: ""}}."""
    from minion.providers import apt

    names = [t.split("=")[0] for t in _targets("pkg.remove", name, pkgs, None)]
    return _changing(lambda: apt.remove(names, purge=False))


def purge(ctx: Any, name: str | None = None, pkgs: Any = None) -> FunctionResult:
    """Remove `name` or the list `pkgs` with their config files; {name: {old, new: ""}}."""
    from minion.providers import apt

    names = [t.split("=")[0] for t in _targets("pkg.purge", name, pkgs, None)]
    return _changing(lambda: apt.remove(names, purge=True))


def upgrade(ctx: Any, refresh: bool = True, dist_upgrade: bool = False) -> FunctionResult:
    """Upgrade every package (apt-get upgrade, or dist-upgrade); {name: {old, new}} of what changed."""
    from minion.providers import apt

    return _changing(lambda: (apt.refresh() if refresh else None, apt.upgrade(dist=dist_upgrade)))


def diff(before: dict[str, str], after: dict[str, str]) -> dict[str, dict[str, str]]:
    """Salt's package changes: {name: {"old": version or "", "new": version or ""}}."""
    return {n: {"old": before.get(n, ""), "new": after.get(n, "")}
            for n in sorted(set(before) | set(after)) if before.get(n) != after.get(n)}


def _satisfied(target: str, have: dict[str, Any]) -> bool:
    name, _, want = target.partition("=")
    current = have[name].installed
    return current is not None and (not want or current == want)


def _changing(act: Any) -> FunctionResult:
    from minion.providers import apt
    from minion.state.contract import StateFailed

    before = apt.installed()
    try:
        act()
    except StateFailed as exc:
        changes = diff(before, apt.installed())
        text = f"Error: {exc}" + (f"\nChanged before it failed: {changes}" if changes else "")
        return FunctionResult(text, success=False, retcode=1)
    return FunctionResult(diff(before, apt.installed()))


def _names(where: str, names: list[Any]) -> list[str]:
    from minion.providers import apt

    if not names:
        raise FunctionArgError(f"{where} needs at least one package name, e.g. {where} nginx")
    for n in names:
        if not isinstance(n, str) or not apt.PACKAGE_NAME.match(n):
            raise FunctionArgError(f"{where}: {str(n)[:80]!r} is not a Debian package name")
    return [str(n) for n in names]


def _targets(where: str, name: Any, pkgs: Any, version: Any) -> list[str]:
    """`name` or `pkgs` as apt-get targets (`name` or `name=version`), each checked."""
    from minion.providers import apt

    if isinstance(pkgs, str):
        import yaml

        try:
            pkgs = yaml.safe_load(pkgs)
        except yaml.YAMLError:
            raise FunctionArgError(f"{where}: pkgs= must be a list, e.g. pkgs='[nginx, curl]'") from None
    if (name is None) == (pkgs is None):
        raise FunctionArgError(f"{where} needs a package name or pkgs=[...] (one of them)")
    items: list[tuple[Any, Any]] = []
    if pkgs is None:
        items = [(name, version)]
    elif isinstance(pkgs, list):
        for entry in pkgs:
            if isinstance(entry, dict) and len(entry) == 1:
                items.append(next(iter(entry.items())))
            else:
                items.append((entry, None))
    else:
        raise FunctionArgError(f"{where}: pkgs= must be a list, e.g. pkgs='[nginx, curl]'")
    out = []
    for pkg, ver in items:
        _names(where, [pkg])
        if ver is not None and ver != "":
            if not apt.VERSION.match(str(ver)):
                raise FunctionArgError(f"{where}: {str(ver)[:80]!r} is not a Debian version")
            out.append(f"{pkg}={ver}")
        else:
            out.append(str(pkg))
    return out
