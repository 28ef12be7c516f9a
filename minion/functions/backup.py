"""backup.*: run, list, verify and restore the restic backups declared in this minion's pillar.

    lpmaster run web1 backup.run db-nightly             (or `lpmaster backup run web1 db-nightly`)
    lpmaster run web1 backup.snapshots db-nightly
    lpmaster run web1 backup.check
    lpmaster run web1 backup.restore db-nightly to=/srv/restore
    lpmaster run web1 backup.restore db-nightly snapshot=1a2b3c4d in_place=True
    lpmaster run web1 backup.restore etc-weekly in_place=True exclude=/etc/fstab,/etc/network

Each reads `backup:` from the pillar the master compiles for this minion (its secrets
never ride in a job's arguments). `backup.run` and `backup.check` send their record to
the master's catalogue (`backup_report`, spooled while it is away) and stream restic's
progress to a waiting `lpmaster backup run` (`backup_progress`). `backup.snapshots` and
`backup.restore` only read the repository (`--no-lock`; never init, forget or prune), so a
drill can restore host A's backups on a scratch host given A's pillar (`host=A` selects
A's snapshots when that pillar does not say `backup: host:`). A files restore in place never
writes over this host's identity (/etc/hostname, /etc/hosts, /etc/machine-id, SSH host keys,
/etc/linkpeek-ops) nor this minion's own config, key and state; its `skipped` says what it
left alone and why.
"""
from __future__ import annotations

import asyncio
import os
import time
from typing import Any, Callable

from core.errors import ConfigError, LinkpeekError
from minion.functions import FunctionResult
from minion.functions.signature import flag

PROGRESS_INTERVAL_S = 1.0


def run(ctx: Any, job: Any = None) -> FunctionResult:
    """Back up JOB now; the record (snapshot id, files, bytes added, duration or the error)."""
    from minion.backup.run import run_backup

    spec, mask = _spec(ctx)
    job_spec = spec.job(_job_name(job))
    return _reported(ctx, mask(run_backup(spec, job_spec, _cache(ctx), on_status=_progress(ctx, job_spec.name))))


def check(ctx: Any) -> FunctionResult:
    """restic check of the repository (reading `verify: read_data_subset`); recorded as the verify run."""
    from minion.backup.run import run_verify

    spec, mask = _spec(ctx)
    return _reported(ctx, mask(run_verify(spec, _cache(ctx))))


def snapshots(ctx: Any, job: Any = None, host: Any = None) -> FunctionResult:
    """The snapshots of JOB, oldest first: id, time, paths, tags, and whether it is good."""
    from core.restic import Restic, ResticError
    from minion.backup.run import FAILED_TAG

    spec, mask = _spec(ctx)
    job_spec = spec.job(_job_name(job))
    try:
        with Restic(spec, _cache(ctx), no_lock=True) as restic:
            snaps = restic.snapshots(tags=[f"lp-job={job_spec.name}"], host=_host(host) or spec.host)
    except ResticError as exc:
        return FunctionResult(mask(f"Error: {exc}"), success=False, retcode=1)
    out = [{"id": s.get("id"), "short_id": s.get("short_id"), "time": s.get("time"),
            "hostname": s.get("hostname"), "paths": s.get("paths"), "tags": s.get("tags"),
            "good": FAILED_TAG not in (s.get("tags") or [])} for s in snaps]
    return FunctionResult(mask(out))


def restore(ctx: Any, job: Any = None, snapshot: Any = "latest", in_place: Any = False, to: Any = None,
            force: Any = False, host: Any = None, exclude: Any = None) -> FunctionResult:
    """Restore JOB's snapshot (`latest` good one by default) into `to=DIR` or `in_place=True`;
    `exclude=` paths or patterns (a list, or comma-separated) are left out, as are, in place,
    this host's identity and this minion's own config, key and state (see `skipped`)."""
    from minion.backup.protect import parse_exclude
    from minion.backup.restore import RestoreError, restore as do_restore

    spec, mask = _spec(ctx)
    job_spec = spec.job(_job_name(job))
    try:
        result = do_restore(spec, job_spec, _cache(ctx), snapshot=str(snapshot or "latest"),
                            to=None if to in (None, "") else str(to), in_place=flag("backup.restore", "in_place", in_place),
                            force=flag("backup.restore", "force", force), host=_host(host),
                            exclude=parse_exclude(exclude), own=own_paths(ctx.config))
    except (RestoreError, LinkpeekError) as exc:
        return FunctionResult(mask(f"Error: {exc}"), success=False, retcode=1)
    return FunctionResult(mask(result))


# -- helpers ------------------------------------------------------------------------------

def own_paths(config: Any) -> list[str]:
    """This minion's own paths an in-place restore leaves alone: its root (pki, spool, cache)
    and the config file it runs from."""
    from core.cli import config_env_var

    paths = [config.root, config.pki_dir]
    if os.environ.get(config_env_var("minion")):
        paths.append(os.path.abspath(os.environ[config_env_var("minion")]))
    return paths


def _spec(ctx: Any) -> tuple[Any, Callable[[Any], Any]]:
    """This minion's `backup:` pillar, parsed, and a masker for its secrets."""
    from core.masking import Masker
    from minion.backup.spec import parse_backup

    reply = ctx.request({"type": "pillar"})
    if not isinstance(reply, dict) or reply.get("type") == "error" or not isinstance(reply.get("pillar"), dict):
        raise LinkpeekError(f"could not get this minion's pillar: {reply.get('error') if isinstance(reply, dict) else reply}")
    masker = Masker(str(s) for s in reply.get("secrets") or [])
    pillar = reply["pillar"]
    if "backup" not in pillar:
        raise ConfigError("this minion's pillar declares no `backup:`")
    try:
        spec = parse_backup(pillar["backup"], ctx.minion_id)
    except ConfigError as exc:
        raise ConfigError(masker.mask(str(exc))) from None
    masker.add([spec.password, *spec.env.values()] + ([spec.ssh.key] if spec.ssh else []))
    return spec, masker.mask_data


def _reported(ctx: Any, record: dict[str, Any]) -> FunctionResult:
    """Deliver a run's (masked) record to the master's catalogue; the job's result says whether it got there."""
    from minion.backup.report import deliver

    reply = deliver(ctx.request, record, ctx.config.spool_dir)
    record["reported"] = "error" not in reply
    return FunctionResult(record, success=bool(record["success"]), retcode=0 if record["success"] else 1)


def _cache(ctx: Any) -> str:
    return os.path.join(ctx.config.cache_dir, "restic")


def _progress(ctx: Any, job: str) -> Callable[[dict[str, Any]], None]:
    """Send restic's status lines to the master at most once a second, never waiting for it."""
    last = [0.0]

    def send(status: dict[str, Any]) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_INTERVAL_S:
            return
        last[0] = now
        msg = {"type": "backup_progress", "jid": ctx.jid, "job": job}
        for key in ("percent_done", "total_files", "files_done", "total_bytes", "bytes_done", "seconds_elapsed"):
            value = status.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                msg[key] = value
        asyncio.run_coroutine_threadsafe(_quiet(ctx.request_async(msg)), ctx.loop)

    return send


async def _quiet(coro: Any) -> None:
    try:
        await coro
    except Exception:
        pass


def _job_name(job: Any) -> str:
    if not isinstance(job, str) or not job:
        raise ConfigError("name the backup job, e.g. `backup.run db-nightly`")
    return job


def _host(host: Any) -> str | None:
    if host in (None, ""):
        return None
    from minion.backup.spec import JOB_NAME_RE
    if not isinstance(host, str) or not JOB_NAME_RE.match(host):
        raise ConfigError("host= must be a host name")
    return host
