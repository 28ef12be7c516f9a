"""Template helpers that look at the host, read-only: Salt's names, Salt's return values.

    salt['file.file_exists']('/etc/nginx/nginx.conf')   -> True when a regular file is there
    salt['file.directory_exists']('/etc/nginx')
    salt['file.join']('/srv', 'app') / file.dirname / file.basename   (pure path arithmetic)
    salt['user.info']('www-data')   -> {name, uid, gid, home, shell, passwd, fullname, roomnumber,
                                        workphone, homephone, other, groups}; {} when absent
    salt['cmd.has_exec']('nginx')   -> whether the command is on PATH (or an executable path)
    salt['status.time']('%Y')       -> the local time, formatted (default '%A')
    salt['cp.list_master'](prefix='web/'), cp.list_master_dirs   -> the state tree's files/dirs
    salt['log.debug']('...')        -> logs at that level on the process's log, returns True

None of them writes, runs a command or opens a connection.
"""
from __future__ import annotations

import logging
import os
import posixpath
import shutil
import time
from typing import Any, Callable, Iterable

log = logging.getLogger("lp.template")


def helpers(file_list: Callable[[], Iterable[str]] | None) -> dict[str, Callable[..., Any]]:
    def list_master(saltenv: str = "base", prefix: str = "", **_: Any) -> list[str]:
        return [f for f in _files(file_list) if f.startswith(str(prefix))]

    def list_master_dirs(saltenv: str = "base", prefix: str = "", **_: Any) -> list[str]:
        dirs = {d for f in _files(file_list) for d in _parents(f)}
        return sorted(d for d in dirs if d.startswith(str(prefix)))

    table: dict[str, Callable[..., Any]] = {
        "file.file_exists": lambda path, **_: os.path.isfile(str(path)),
        "file.directory_exists": lambda path, **_: os.path.isdir(str(path)),
        "file.join": lambda *parts: posixpath.join(*(str(p) for p in parts)),
        "file.dirname": lambda path: posixpath.dirname(str(path)),
        "file.basename": lambda path: posixpath.basename(str(path)),
        "user.info": user_info,
        "cmd.has_exec": has_exec,
        "status.time": lambda format="%A", **_: time.strftime(str(format)),
        "cp.list_master": list_master,
        "cp.list_master_dirs": list_master_dirs,
    }
    for level in ("trace", "debug", "info", "warning", "error", "critical"):
        table[f"log.{level}"] = _logger(level)
    return table


def _logger(level: str) -> Callable[..., bool]:
    number = logging.DEBUG if level == "trace" else getattr(logging, level.upper())

    def emit(message: Any, *args: Any, **_: Any) -> bool:
        log.log(number, str(message), *args)
        return True
    return emit


def _files(file_list: Callable[[], Iterable[str]] | None) -> list[str]:
    return [] if file_list is None else sorted(file_list())


def _parents(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def ip_addrs(grains: Any, version: int, interface: Any = None, include_loopback: Any = False,
             cidr: Any = None, kind: Any = None) -> list[str]:
    """Salt's network.ip_addrs / ip_addrs6 over the minion's grains: sorted, loopback left out
    unless asked, optionally one interface's, inside `cidr`, or only public/private ones."""
    import ipaddress

    if interface:
        raw = (grains.get("ip_interfaces") or {}).get(str(interface)) or []
    else:
        raw = grains.get("ipv4" if version == 4 else "ipv6") or []
    network = ipaddress.ip_network(str(cidr), strict=False) if cidr else None
    found = set()
    for text in raw:
        try:
            address = ipaddress.ip_address(str(text).split("%")[0])
        except ValueError:
            continue
        if address.version != version or (address.is_loopback and not include_loopback):
            continue
        if network is not None and address not in network:
            continue
        if kind == "public" and address.is_private or kind == "private" and not address.is_private:
            continue
        found.add(address)
    return [str(a) for a in sorted(found)]


def has_exec(cmd: Any) -> bool:
    text = str(cmd)
    if os.sep in text:
        return os.path.isfile(text) and os.access(text, os.X_OK)
    return shutil.which(text) is not None


def user_info(name: Any) -> dict[str, Any]:
    """Salt's user.info: the passwd entry, its GECOS fields, and the user's groups (sorted)."""
    import grp
    import pwd

    try:
        entry = pwd.getpwnam(str(name))
    except KeyError:
        return {}
    gecos = (entry.pw_gecos.split(",") + [""] * 5)[:5]
    gecos[4] = ",".join(entry.pw_gecos.split(",")[4:])
    groups = {g.gr_name for g in grp.getgrall() if entry.pw_name in g.gr_mem}
    try:
        groups.add(grp.getgrgid(entry.pw_gid).gr_name)
    except KeyError:
        pass
    return {
        "name": entry.pw_name, "passwd": entry.pw_passwd, "uid": entry.pw_uid,
        "gid": entry.pw_gid, "home": entry.pw_dir, "shell": entry.pw_shell,
        "fullname": gecos[0], "roomnumber": gecos[1], "workphone": gecos[2],
        "homephone": gecos[3], "other": gecos[4], "groups": sorted(groups),
    }
