"""The master's own `backup:` settings in master.yaml: a wrong ssh port is a ConfigError that
names the key, in the library and from a running master (CLI exit 64, the daemon keeps serving)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from core.errors import ConfigError
from master.backups.selfbackup import parse_settings
from tests.cluster import Cluster


def _secret(path: Path, text: str) -> str:
    path.write_text(text)
    path.chmod(0o600)
    return str(path)


def _settings(tmp_path: Path, port: object) -> dict[str, object]:
    return {"repository": "sftp:vault@127.0.0.1:/srv/restic/lp-master",
            "password_file": _secret(tmp_path / "pass", "pw\n"),
            "ssh": {"key_file": _secret(tmp_path / "key", "KEY\n"), "port": port}}


@pytest.mark.parametrize("port", ["twenty-two", "22x", [22], 0, 70000, True])
def test_a_port_that_is_not_a_port_number_names_the_key(tmp_path: Path, port: object) -> None:
    with pytest.raises(ConfigError, match=r"master.yaml backup:ssh:port must be a port number .*port: 2222"):
        parse_settings(_settings(tmp_path, port))


def test_a_port_number_is_kept(tmp_path: Path) -> None:
    ssh = parse_settings(_settings(tmp_path, 2222)).ssh
    assert ssh is not None and ssh.port == 2222 and ssh.key == "KEY\n"


def test_the_cli_exits_64_and_the_master_keeps_serving(tmp_path: Path, lpmaster_bin: str,
                                                       lpminion_bin: str) -> None:
    with Cluster(tmp_path, lpmaster_bin, lpminion_bin) as c:
        config = yaml.safe_load(Path(c.master_cfg).read_text())
        config["backup"] = _settings(tmp_path, "twenty-two")
        Path(c.master_cfg).write_text(yaml.safe_dump(config))
        c.start_master()
        run = c.cli("backup", "run", "(master)", "master")
        assert run.returncode == 64, run.stderr
        assert "backup:ssh:port must be a port number" in run.stderr
        assert "Traceback" not in run.stderr
        assert c.cli("keys", "list").returncode == 0
        assert c.master_proc is not None and c.master_proc.poll() is None
        assert "self-backup not scheduled: master.yaml backup:ssh:port" in c.master_log()


def test_a_password_file_under_root_names_the_units_protecthome(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = {"repository": "/srv/r", "password_file": "/root/no-such-lp-master.pass"}
    with pytest.raises(ConfigError) as plain:
        parse_settings(settings)
    assert "ProtectHome" not in str(plain.value)
    monkeypatch.setenv("INVOCATION_ID", "0123456789abcdef")   # what systemd gives a service
    with pytest.raises(ConfigError) as under_systemd:
        parse_settings(settings)
    assert "ProtectHome=yes" in str(under_systemd.value) and "/etc/linkpeek-ops" in str(under_systemd.value)
