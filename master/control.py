"""The master's local control socket: how the CLI asks the running master to do things.

A Unix stream socket at ROOT/run/master.sock: directory 0750 (0700 without a group),
socket 0660, group from `control_group` in master.yaml (default: root's group, so
only root or that group can connect). One JSON request per connection, one line;
the master answers with JSON lines (events) and closes.

    {"op": "run", "tgt": "*", "tgt_type": "glob", "fun": "test.ping", "arg": [], "kwarg": {},
     "timeout": 10}
      -> {"event": "job", "jid": ..., "minions": [...]}
      -> {"event": "return", "minion": "m1", "success": true, "retcode": 0, "ret": true}
      -> {"event": "done", "jid": ..., "missing": {"m3": "not connected"}}
    {"op": "keys_changed"}  -> {"event": "done", "cut": [...]}   (after `keys reject/delete`)
    {"op": "status"}        -> {"event": "done", "last_seen": {id: ts}, "connected": [ids]}
    {"op": "ping"}          -> {"event": "done"}
    {"op": "self_backup"}   -> {"event": "done", "record": {...}}   (the master backs itself up now)
    {"op": "drill", ...}    -> phase events, then done with the result (master/drills/control.py)
"""
from __future__ import annotations

import asyncio
import grp
import json
import logging
import os
import pwd
import socket
import struct
from typing import TYPE_CHECKING, Any

from core import wire
from core.errors import ConfigError, LinkpeekError

if TYPE_CHECKING:
    from master.daemon import MasterDaemon

log = logging.getLogger("lp.master.control")

MAX_REQUEST_BYTES = 1024 * 1024
MAX_TIMEOUT_S = 86400.0
SEND_TIMEOUT_S = 30.0   # a client that reads nothing for this long is dropped (its job goes on)
CLOSE_WAIT_S = 2.0


def _prepare_socket_path(path: str, group: str | None) -> int:
    """Make the run dir (0750/0700), clear a stale socket; return the gid to give it."""
    gid = os.getgid()
    if group:
        try:
            gid = grp.getgrnam(group).gr_gid
        except KeyError:
            raise ConfigError(f"control_group {group!r} does not exist") from None
    run_dir = os.path.dirname(path)
    os.makedirs(run_dir, mode=0o700, exist_ok=True)
    os.chmod(run_dir, 0o750 if group else 0o700)
    if group:
        os.chown(run_dir, -1, gid)
    if os.path.exists(path):
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(path)
        except OSError:
            os.unlink(path)  # stale, from a master that died
        else:
            raise ConfigError(f"another master is already serving {path}")
        finally:
            probe.close()
    return gid


def _peer_user(writer: asyncio.StreamWriter) -> str:
    sock = writer.get_extra_info("socket")
    try:
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _, uid, _ = struct.unpack("3i", creds)
        return pwd.getpwuid(uid).pw_name
    except (OSError, KeyError, AttributeError):
        return ""


class ControlServer:
    """Serves CLI requests against a running MasterDaemon."""

    def __init__(self, daemon: "MasterDaemon") -> None:
        self.daemon = daemon
        self.path = daemon.config.control_socket
        self._server: asyncio.AbstractServer | None = None
        self.stopping = asyncio.Event()          # set when the master stops: waiting commands are told
        self._clients: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        gid = _prepare_socket_path(self.path, self.daemon.config.control_group)
        self._server = await asyncio.start_unix_server(self._serve_client, path=self.path,
                                                       limit=MAX_REQUEST_BYTES)
        os.chmod(self.path, 0o660)
        if gid != os.getgid():
            os.chown(self.path, -1, gid)

    async def close(self) -> None:
        """Tell waiting commands the master is stopping, let them finish (briefly), close."""
        self.stopping.set()
        if self._clients:
            await asyncio.wait(set(self._clients), timeout=CLOSE_WAIT_S)
        for task in set(self._clients):
            task.cancel()
        if self._server is not None:
            self._server.close()
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass

    async def _serve_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._clients.add(task)
            task.add_done_callback(self._clients.discard)
        try:
            line = await reader.readline()
            request = json.loads(line)
            if not isinstance(request, dict):
                raise ValueError("request must be an object")
            op = request.get("op")
            if op == "run":
                await self._run(request, writer, _peer_user(writer))
            elif op == "keys_changed":
                cut = self.daemon.keys_changed()
                await _send(writer, {"event": "done", "cut": sorted(set(cut))})
            elif op == "status":
                services = self.daemon.services
                await _send(writer, {"event": "done", "last_seen": dict(services.last_seen),
                                     "connected": sorted(services.subscribed),
                                     "storage": services.storage.as_dict(),
                                     "clock_skew": services.clock.off()})
            elif op == "drill":  # master/drills/control.py: a drill or rebuild, followed
                from master.drills.control import handle_drill
                await handle_drill(self.daemon, request, lambda event: _send(writer, event),
                                   _peer_user(writer))
            elif op == "self_backup":
                from master.backups.selfschedule import run_now
                record = await run_now(self.daemon.services, self.daemon.config)
                await _send(writer, {"event": "done", "record": record})
            elif op == "ping":
                await _send(writer, {"event": "done"})
            else:
                await _send(writer, {"event": "error", "error": f"unknown op {str(op)[:40]!r}"})
        except (ValueError, UnicodeDecodeError) as exc:
            await _send(writer, {"event": "error", "error": f"bad request: {exc}"})
        except ConfigError as exc:   # the CLI exits 64, as for its own config errors
            await _send(writer, {"event": "error", "error": str(exc), "config": True})
        except LinkpeekError as exc:
            await _send(writer, {"event": "error", "error": str(exc)})
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # the CLI went away, or the master is stopping: nothing to tell anyone
        except OSError as exc:   # its own files (the key store, the job store) cannot be read
            log.error("control request failed: %s", exc)
            await _send(writer, {"event": "error", "error": f"the master cannot read its files: {exc}"})
        except Exception:
            log.exception("control request failed")
            await _send(writer, {"event": "error", "error": "internal error"})
        finally:
            writer.close()

    async def _run(self, request: dict[str, Any], writer: asyncio.StreamWriter, user: str) -> None:
        services = self.daemon.services
        fun, tgt = request.get("fun"), request.get("tgt")
        tgt_type = request.get("tgt_type") or "glob"
        arg, kwarg = request.get("arg") or [], request.get("kwarg") or {}
        if not isinstance(fun, str) or not wire.FUNCTION_RE.match(fun):
            raise LinkpeekError(f"invalid function name {str(fun)[:80]!r}")
        if not isinstance(tgt, str) or not isinstance(arg, list) or not isinstance(kwarg, dict):
            raise LinkpeekError("invalid target or arguments")
        timeout = float(request.get("timeout") or self.daemon.config.job_timeout)
        timeout = max(0.1, min(timeout, MAX_TIMEOUT_S))
        minions = services.select_targets(tgt, tgt_type)
        if not minions:   # nothing to run: no job is recorded; say which pending keys match
            from master.pendingmatch import pending_matching
            pending = pending_matching(services.keystore, tgt, tgt_type)
            await _send(writer, {"event": "job", "jid": "", "minions": [], "pending": pending})
            await _send(writer, {"event": "done", "jid": "", "missing": {}, "pending": pending})
            return
        job = services.new_job(fun, arg, kwarg, tgt, tgt_type, minions, user,
                               ttl=max(self.daemon.config.job_ttl, timeout))
        from master.jobwait import wait_for_job

        await wait_for_job(services, self.daemon.publish, job, minions, timeout,
                           _Coalesced(writer).send, self.stopping)


async def _send(writer: asyncio.StreamWriter, event: dict[str, Any]) -> None:
    writer.write(json.dumps(event, default=repr).encode() + b"\n")
    await _drain(writer)


async def _drain(writer: asyncio.StreamWriter) -> None:
    try:
        await asyncio.wait_for(writer.drain(), SEND_TIMEOUT_S)
    except TimeoutError:
        raise ConnectionResetError(f"the client read nothing for {SEND_TIMEOUT_S:g} s") from None


class _Coalesced:
    """A job's events to the CLI, the lines of one burst (a thousand returns) written in one
    piece when the loop comes round, not a system call each; `done` goes out at once."""

    FLUSH_BYTES = 256 * 1024

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self._lines: list[bytes] = []
        self._size = 0

    async def send(self, event: dict[str, Any]) -> None:
        line = json.dumps(event, default=repr).encode() + b"\n"
        if not self._lines and event.get("event") != "done":
            asyncio.get_running_loop().call_soon(self._flush)
        self._lines.append(line)
        self._size += len(line)
        if (event.get("event") == "done" or self._size >= self.FLUSH_BYTES
                or self.writer.transport.get_write_buffer_size() >= self.FLUSH_BYTES):   # a slow reader
            self._flush()
            await _drain(self.writer)

    def _flush(self) -> None:
        if self._lines and not self.writer.is_closing():
            self.writer.write(b"".join(self._lines))
        self._lines, self._size = [], 0
