"""Issue 13 item 3: sysctl, timezone, locale, git.config_*, ssh_known_hosts on a whole host.

Each: test mode predicts exactly what the real run changes, a second run changes nothing,
and what a user would look at (/proc/sys, /etc/localtime, locale -a, git config, the
known_hosts file) says so. Salt 3008.5 was the reference for paths and forms: sysctl persists
to /etc/sysctl.d/99-salt.conf as `name = value`; timezone.system links /etc/localtime and
writes /etc/timezone; known_hosts names are hashed by default, `[host]:port` off port 22.
"""
from __future__ import annotations

import pytest

from minion.states.ssh_known_hosts import names_match
from tests.hosts.conftest import apply_states, assert_test_predicts_run, state

pytestmark = pytest.mark.host
KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIGx1bmtwZWVrLXRlc3Qta2V5LW5vdC1yZWFsLTAwMDAwMDA"


def test_sysctl_present_sets_the_running_value_and_persists_it(module_host):
    host = module_host
    before = host.run(["cat", "/proc/sys/net/ipv4/ip_forward"]).stdout.strip()
    want = "0" if before == "1" else "1"
    real = assert_test_predicts_run(host, [state("sysctl.present", "net.ipv4.ip_forward",
                                                 value=int(want))])
    assert real[0]["changes"] == {"net.ipv4.ip_forward": want}
    assert host.run(["cat", "/proc/sys/net/ipv4/ip_forward"]).stdout.strip() == want
    assert host.read_text("/etc/sysctl.d/99-salt.conf") == f"net.ipv4.ip_forward = {want}\n"
    bad = apply_states(host, [state("sysctl.present", "net.no.such_thing", value=1)])[0]
    assert bad["result"] is False and "does not exist on this kernel" in bad["comment"]


def test_timezone_system_links_localtime(module_host):
    host = module_host
    real = assert_test_predicts_run(host, [state("timezone.system", "Pacific/Auckland")])
    assert real[0]["changes"] == {"timezone": "Pacific/Auckland"}
    assert host.run(["readlink", "/etc/localtime"]).stdout.strip() == (
        "/usr/share/zoneinfo/Pacific/Auckland")
    assert host.read_text("/etc/timezone") == "Pacific/Auckland\n"
    assert host.run(["date", "+%Z"]).stdout.strip() in ("NZDT", "NZST")
    bad = apply_states(host, [state("timezone.system", "Mars/Olympus")])[0]
    assert bad["result"] is False and "not in /usr/share/zoneinfo" in bad["comment"]


def test_locale_present_generates_and_system_sets_lang(module_host):
    host = module_host
    name = "nl_NL.UTF-8"
    if "nl_NL.utf8" in host.run(["locale", "-a"]).stdout:
        pytest.skip("the machine already has nl_NL.UTF-8 generated")
    real = assert_test_predicts_run(host, [state("locale.present", name),
                                           state("locale.system", name)])
    assert [r["changes"] for r in real] == [{"locale": name}, {"locale": name}]
    assert "nl_NL.utf8" in host.run(["locale", "-a"]).stdout
    assert "nl_NL.UTF-8 UTF-8" in host.read_text("/etc/locale.gen").splitlines()
    assert f"LANG={name}" in host.read_text("/etc/default/locale").splitlines()


def test_git_config_set_and_unset_for_a_user_and_a_repo(module_host):
    host = module_host
    host.run(["useradd", "-m", "gitcfg"])
    host.run(["git", "init", "-q", "/srv/gitcfg-repo"])
    real = assert_test_predicts_run(host, [
        state("git.config_set", "user.email", value="ops@example.com", user="gitcfg",
              **{"global": True}),
        state("git.config_set", "remote.origin.fetch", repo="/srv/gitcfg-repo",
              multivar=["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"]),
    ])
    assert real[0]["changes"] == {"user.email": {"old": None, "new": "ops@example.com"}}
    assert host.read_text("/home/gitcfg/.gitconfig").count("ops@example.com") == 1
    assert host.run(["stat", "-c", "%U", "/home/gitcfg/.gitconfig"]).stdout.strip() == "gitcfg"
    got = host.run(["git", "-C", "/srv/gitcfg-repo", "config", "--get-all",
                    "remote.origin.fetch"]).stdout.split()
    assert got == ["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"]
    unset = assert_test_predicts_run(host, [
        state("git.config_unset", "user.email", user="gitcfg", **{"global": True})])
    assert unset[0]["changes"] == {"user.email": {"old": "ops@example.com", "new": None}}


def test_ssh_known_hosts_present_hashes_names_and_replaces_a_changed_key(module_host):
    host = module_host
    host.run(["useradd", "-m", "khuser"])
    real = assert_test_predicts_run(host, [
        state("ssh_known_hosts.present", "git.internal", user="khuser", key=KEY, port=2222),
        state("ssh_known_hosts.present", "mirror.internal", config="/etc/ssh/ssh_known_hosts",
              enc="ssh-ed25519", key=KEY, hash_known_hosts=False),
    ])
    assert real[0]["changes"]["new"] == [{"enc": "ssh-ed25519", "key": KEY,
                                          "hostname": "git.internal"}]
    (line,) = host.read_text("/home/khuser/.ssh/known_hosts").splitlines()
    field, enc, key = line.split()
    assert field.startswith("|1|") and names_match(field, "[git.internal]:2222")
    assert (enc, key) == ("ssh-ed25519", KEY)
    assert host.run(["stat", "-c", "%U %a", "/home/khuser/.ssh/known_hosts"]).stdout.split() == [
        "khuser", "600"]
    assert host.read_text("/etc/ssh/ssh_known_hosts") == f"mirror.internal ssh-ed25519 {KEY}\n"
    found = host.run(["ssh-keygen", "-F", "[git.internal]:2222", "-f",
                      "/home/khuser/.ssh/known_hosts"])
    assert found.returncode == 0  # OpenSSH finds the hashed entry
    other = KEY[:-4] + "AAAA"
    changed = apply_states(host, [state("ssh_known_hosts.present", "mirror.internal",
                                        config="/etc/ssh/ssh_known_hosts", key=other,
                                        hash_known_hosts=False)])[0]
    assert changed["changes"]["old"][0]["key"] == KEY
    assert host.read_text("/etc/ssh/ssh_known_hosts") == f"mirror.internal ssh-ed25519 {other}\n"


def test_the_formula_corpus_runs_in_test_mode(module_host):
    """tests/compat/corpus, compiled as Salt compiles it, also checks on a real host: every
    state looks at the host and says what it would do; nothing fails, nothing changes."""
    import json
    import shutil
    from pathlib import Path

    from tests.hosts.conftest import LPMINION

    corpus = Path(__file__).resolve().parents[1] / "compat" / "corpus"
    host = module_host
    shutil.copytree(corpus, host.path("/srv/corpus"), dirs_exist_ok=True)
    host.write_text("/srv/corpus/grains.yaml", "os: Debian\nos_family: Debian\n")
    if not host.path("/etc/ssh/sshd_config").exists():  # openssh-server's file, if not installed
        host.write_text("/etc/ssh/sshd_config", "#PermitRootLogin prohibit-password\n")
    before = host.read_text("/etc/passwd")
    proc = host.run([LPMINION, "apply", "--local", "--test", "--json", "--id", "m1",
                     "--state-tree", "/srv/corpus/states", "--pillar-tree", "/srv/corpus/pillar",
                     "--grains", "/srv/corpus/grains.yaml"])
    results = json.loads(proc.stdout)
    failed = {k: r["comment"] for k, r in results.items() if r["result"] is False}
    # a test host runs services under supervisord, which has no nginx or ssh program defined
    services = {"service_|-nginx-service_|-nginx_|-running", "service_|-sshd_|-ssh_|-running"}
    assert len(results) == 25 and set(failed) <= services, failed
    assert all(r["result"] is None for r in results.values() if r["changes"])
    assert host.read_text("/etc/passwd") == before
