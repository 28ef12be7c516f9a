"""The tests' offline apt cache: the .debs scripts/blueprint-cache.sh (run by scripts/setup.sh)
downloads for test hosts (nginx, openssh-server, ...), which have no network.

    use_offline_apt(host)                    # the host's apt reads the cache (in its overlay only)
    install_offline(host, "openssh-server")  # installed from it, no service started by the package
"""

from __future__ import annotations

from tests.hostlib.host import Host, HostError

OFFLINE_APT = "/var/cache/linkpeek-ops-tests/debs"


def use_offline_apt(host: Host, cache: str = OFFLINE_APT) -> None:
    """Point the host's apt at the offline cache (written inside the host's overlay only)."""
    host.write_text("/etc/apt/apt.conf.d/90linkpeek-offline",
                    f'Dir::Cache::archives "{cache}/";\nAcquire::Retries "0";\n')


def install_offline(host: Host, *packages: str) -> None:
    """apt-get install `packages` inside `host` from the offline cache; their maintainer scripts
    start no service (the test starts what it needs)."""
    use_offline_apt(host)
    host.write_text("/usr/sbin/policy-rc.d", "#!/bin/sh\nexit 101\n", mode=0o755)
    proc = host.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages],
                    env={"DEBIAN_FRONTEND": "noninteractive"}, timeout=300)
    if proc.returncode != 0:
        raise HostError(f"cannot install {' '.join(packages)} from {OFFLINE_APT} (run scripts/setup.sh, "
                        f"which downloads them): {proc.stdout[-1000:]}{proc.stderr[-1000:]}")
