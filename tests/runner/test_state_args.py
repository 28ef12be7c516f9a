"""Every state function rejects an argument it does not take, naming itself and what it takes
(specargs.check_known), and accepts the Salt arguments that change nothing here."""

from __future__ import annotations

import importlib

import pytest

from core.errors import StateArgError
from minion.states import MODULES

FUNCTIONS = [
    (module, fun, impl)
    for module, modname in sorted(MODULES.items())
    for fun, impl in sorted(importlib.import_module(modname).FUNCTIONS.items())
    if module != "module"  # module.run hands its arguments to the function it calls, as Salt's
]


@pytest.mark.parametrize(
    ("module", "fun", "impl"), FUNCTIONS, ids=[f"{m}.{f}" for m, f, _ in FUNCTIONS]
)
def test_an_unknown_argument_is_a_compile_error_naming_the_state(module, fun, impl):
    name = "nginx" if module == "pkg" else "/srv/x"  # a name each function's own check passes
    with pytest.raises(StateArgError, match=rf"^{module}\.{fun} does not take 'no_such_arg'; "):
        impl.parse(name, {"no_such_arg": 1})


def test_a_function_without_arguments_says_so():
    from minion.states.group import FUNCTIONS as GROUP

    with pytest.raises(StateArgError, match="group.absent does not take 'gid'; it takes no"):
        GROUP["absent"].parse("web", {"gid": 5})


def test_ignored_salt_arguments_compile_on_account_states():
    from minion.states.user import FUNCTIONS as USER

    assert USER["absent"].parse("web", {"saltenv": "base", "purge": True}).purge is True


def test_flags_take_salt_spellings_and_reject_the_rest():
    from minion.states.pip import FUNCTIONS as PIP
    from minion.states.pkg import FUNCTIONS as PKG
    from minion.states.virtualenv import FUNCTIONS as VENV

    assert PKG["installed"].parse("nginx", {"refresh": "no"}).refresh is False
    assert PKG["installed"].parse("nginx", {"refresh": "yes"}).refresh is True
    venv = VENV["managed"].parse("/srv/venv", {"pip": "off", "upgrade": "on"})
    assert venv.pip is False and venv.system_site_packages is False
    assert venv.options.upgrade is True and venv.options.no_index is False
    with pytest.raises(StateArgError, match=r"^pkg.installed: refresh must be true or false"):
        PKG["installed"].parse("nginx", {"refresh": 3})
    with pytest.raises(StateArgError, match=r"^pip.installed: no_index must be true or false"):
        PIP["installed"].parse("x", {"pkgs": ["six"], "bin_env": "/srv/v", "no_index": "maybe"})


def test_an_authorized_keys_path_under_home_cannot_climb_out_of_it():
    from minion.states.ssh_auth import FUNCTIONS as SSH

    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl a@b"
    ok = SSH["present"].parse(key, {"user": "web", "config": "./.ssh//authorized_keys"})
    assert ok.config == ".ssh/authorized_keys"
    assert SSH["present"].parse(key, {"user": "web", "config": "/etc/ssh/keys/web"}).config == (
        "/etc/ssh/keys/web"
    )
    with pytest.raises(StateArgError, match=r"^config: '\.\.' not allowed"):
        SSH["present"].parse(key, {"user": "web", "config": ".ssh/../../root/.ssh/authorized_keys"})


def test_recurse_onto_a_dangling_symlink_fails_clearly(tmp_path):
    from minion.state.contract import StateFailed
    from minion.states.file_tree import Recurse

    root = tmp_path / "site"
    root.symlink_to(tmp_path / "gone")
    spec = Recurse().parse(str(root), {"source": "salt://site"})
    with pytest.raises(StateFailed, match="exists and is not a directory"):
        Recurse().check(None, spec)


def test_directory_onto_a_dangling_symlink_fails_clearly(tmp_path):
    from minion.state.contract import StateFailed
    from minion.states.file_tree import Directory

    root = tmp_path / "site"
    root.symlink_to(tmp_path / "gone")
    with pytest.raises(StateFailed, match="is a symlink to .*gone, which does not exist"):
        Directory().check(None, Directory().parse(str(root), {}))
