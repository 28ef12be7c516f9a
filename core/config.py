"""Master and minion configuration: YAML files with defaults, and the root dir of all state.

`lpmaster init --dir DIR` writes DIR/master.yaml; `lpminion init --dir DIR ...` writes
DIR/minion.yaml. Every path the daemons use (keys, job store, control socket, spool)
is derived from `root`, so tests and demos never touch /etc.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping

from core.errors import ConfigError

DEFAULT_PUBLISH_PORT = 4605
DEFAULT_REQUEST_PORT = 4606
DEFAULT_KEY_PORT = 4607


@dataclass(frozen=True)
class MasterConfig:
    """What `lpmaster serve` and the CLI read from master.yaml."""

    root: str
    interface: str = "0.0.0.0"
    publish_port: int = DEFAULT_PUBLISH_PORT
    request_port: int = DEFAULT_REQUEST_PORT
    key_port: int = DEFAULT_KEY_PORT
    control_group: str | None = None
    state_tree: str = ""
    pillar_tree: str = ""
    job_timeout: float = 10.0          # default `run --timeout`
    job_ttl: float = 300.0             # a published job expires this long after creation
    minion_down_after: float = 45.0    # status shows a minion down after this silence
    max_pending_keys: int = 1000
    keep_jobs: float = 24.0            # hours a job stays in the job store (Salt's keep_jobs)
    fileserver_max_size: int = 100     # MiB: a bigger state-tree file is refused, not hashed
    log_level: str = "info"
    strict_arguments: bool = False     # `lpmaster apply` as with --strict
    nodegroups: Mapping[str, Any] = field(default_factory=dict)  # N@name: a compound target each
    backup: Mapping[str, Any] = field(default_factory=dict)      # the master's self-backup (master/backups/selfbackup.py)
    # issue 11 (master/drills/): hosts that may receive another's role in a drill, scheduled
    # drills ({SOURCE: {onto: SCRATCH, cron: "0 6 * * 1"}}), and when a drill is stale
    scratch: str = field(default="", metadata={"csv_list": True})
    drills: Mapping[str, Any] = field(default_factory=dict)
    drill_max_age: str = "8d"
    drill_required: str = field(default="", metadata={"csv_list": True})  # id globs held to drills
    config_path: str = field(default="", compare=False, metadata={"internal": True})   # the file it was read from

    @property
    def pki_dir(self) -> str:
        return os.path.join(self.root, "pki")

    @property
    def db_path(self) -> str:
        return os.path.join(self.root, "master.db")

    @property
    def run_dir(self) -> str:
        return os.path.join(self.root, "run")

    @property
    def control_socket(self) -> str:
        return os.path.join(self.run_dir, "master.sock")


@dataclass(frozen=True)
class MinionConfig:
    """What `lpminion start` reads from minion.yaml."""

    root: str
    id: str
    master: str = "127.0.0.1"
    master_port: int = DEFAULT_REQUEST_PORT
    master_key_port: int = DEFAULT_KEY_PORT
    master_finger: str | None = None
    trust_first_use: bool = False
    grains: Mapping[str, Any] = field(default_factory=dict)
    heartbeat_interval: float = 10.0
    request_timeout: float = 5.0
    register_backoff_max: float = 10.0
    job_workers: int = 4
    log_level: str = "info"
    # issue 6 (minion/lifecycle.py): converge on boot, scheduled jobs, the drift check
    # highstate | none | SLS names, as a YAML list or comma-separated
    startup_states: str = field(default="highstate", metadata={"csv_list": True})
    schedule: Mapping[str, Any] = field(default_factory=dict)   # Salt's `schedule:` jobs
    drift: Mapping[str, Any] = field(default_factory=dict)      # interval, splay, cert_window_days, enabled
    mine_interval: float = 60.0  # Salt's: minutes between mine updates (also one at start)
    strict_arguments: bool = False  # unknown state arguments and bad values are compile errors
    nodegroups: Mapping[str, Any] = field(default_factory=dict)  # N@ in a masterless top.sls

    @property
    def pki_dir(self) -> str:
        return os.path.join(self.root, "pki")

    @property
    def spool_dir(self) -> str:
        return os.path.join(self.root, "spool")

    @property
    def cache_dir(self) -> str:
        return os.path.join(self.root, "cache")

    @property
    def master_pub_path(self) -> str:
        return os.path.join(self.pki_dir, "master.pub")


def _coerce(cls: type, data: Mapping[str, Any], source: str) -> Any:
    known = {f.name: f for f in fields(cls) if not f.metadata.get("internal")}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(f"{source}: unknown setting(s): {', '.join(unknown)}")
    out: dict[str, Any] = {}
    for name, value in data.items():
        ftype = str(known[name].type)
        if value is None:
            out[name] = None
            continue
        try:
            if ftype == "int":
                if isinstance(value, bool):
                    raise ValueError
                out[name] = int(value)
            elif ftype == "float":
                out[name] = float(value)
            elif ftype == "bool":
                if not isinstance(value, bool):
                    raise ValueError
                out[name] = value
            elif ftype.startswith("Mapping"):
                if not isinstance(value, dict):
                    raise ValueError
                out[name] = value
            else:
                if known[name].metadata.get("csv_list") and isinstance(value, list):
                    value = ",".join(str(item) for item in value)
                if not isinstance(value, (str, int, float)):
                    raise ValueError
                out[name] = str(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{source}: setting {name!r} has the wrong type ({ftype} expected)") from None
    return out


def _read_yaml(path: str) -> dict[str, Any]:
    import yaml

    from core.errors import RenderError
    from core.yamlload import load_plain

    try:
        with open(path, encoding="utf-8") as fh:
            data = load_plain(fh.read(), path)  # with the alias, node and size limits
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist (run `init --dir DIR` first)") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else path
        raise ConfigError(f"{where}: invalid YAML") from exc
    except RenderError as exc:
        raise ConfigError(str(exc)) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a map of settings")
    return data


def load_master(path: str) -> MasterConfig:
    """Load and validate master.yaml; ConfigError with a one-line reason."""
    data = _coerce(MasterConfig, _read_yaml(path), path)
    if not data.get("root"):
        data["root"] = os.path.dirname(os.path.abspath(path))
    root = os.path.abspath(data["root"])
    data["root"] = root
    data.setdefault("state_tree", os.path.join(root, "states"))
    data.setdefault("pillar_tree", os.path.join(root, "pillar"))
    cfg = MasterConfig(**data, config_path=os.path.abspath(path))
    _check_ports(path, cfg.publish_port, cfg.request_port, cfg.key_port)
    return cfg


def _check_ports(path: str, *ports: int) -> None:
    for port in ports:
        if not 0 < port < 65536:
            raise ConfigError(f"{path}: port {port} out of range")


def load_minion(path: str) -> MinionConfig:
    """Load and validate minion.yaml; ConfigError with a one-line reason."""
    from core.wire import MINION_ID_RE

    data = _coerce(MinionConfig, _read_yaml(path), path)
    if not data.get("root"):
        data["root"] = os.path.dirname(os.path.abspath(path))
    data["root"] = os.path.abspath(data["root"])
    if not data.get("id") or not MINION_ID_RE.match(str(data["id"])):
        raise ConfigError(f"{path}: 'id' is missing or invalid (letters, digits, '.', '_', '-')")
    cfg = MinionConfig(**data)
    _check_ports(path, cfg.master_port, cfg.master_key_port)
    if not cfg.master_finger and not cfg.trust_first_use:
        raise ConfigError(f"{path}: set master_finger (lpmaster keys finger --master) "
                          "or trust_first_use: true")
    return cfg


def dump(cfg: MasterConfig | MinionConfig) -> str:
    """YAML text for a config (what init writes)."""
    import yaml

    internal = {f.name for f in fields(cfg) if f.metadata.get("internal")}
    data = {k: v for k, v in asdict(cfg).items() if k not in internal}
    if "grains" in data and data["grains"] is None:
        del data["grains"]  # `grains: null` would load back as None, not the default {}
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)


def write_config(path: str, cfg: MasterConfig | MinionConfig, overwrite: bool = False) -> None:
    """Write a config file (0640); refuse to overwrite one unless asked."""
    if os.path.exists(path) and not overwrite:
        raise ConfigError(f"{path} already exists (use --force to overwrite)")
    from core.keys import write_private_file

    write_private_file(path, dump(cfg), 0o640)
