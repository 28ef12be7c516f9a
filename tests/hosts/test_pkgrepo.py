"""pkgrepo.managed on a whole host: a one-line and a deb822 source with a signed-by key from
salt:// (no refresh: hosts have no network; apt is asked which URIs it would fetch instead)."""

from __future__ import annotations

import pytest

from tests.hosts.conftest import apply_states, assert_test_predicts_run, state

pytestmark = pytest.mark.host
KEY = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZfakekeyforlinkpeektests\n-----END PGP PUBLIC KEY BLOCK-----\n"


def test_one_line_and_deb822_sources_with_keys(module_host):
    host = module_host
    host.write_text("/srv/salt/apt/linkpeek.asc", KEY)
    one_line = state(
        "pkgrepo.managed",
        "deb http://10.231.0.1/apt bookworm main",
        file="/etc/apt/sources.list.d/linkpeek.list",
        key_url="salt://apt/linkpeek.asc",
        signed_by="/etc/apt/keyrings/linkpeek.asc",
    )
    real = assert_test_predicts_run(host, [one_line])
    assert set(real[0]["changes"]) == {"key", "source"}
    assert host.read_text("/etc/apt/keyrings/linkpeek.asc") == KEY
    assert (
        host.read_text("/etc/apt/sources.list.d/linkpeek.list")
        == "deb [signed-by=/etc/apt/keyrings/linkpeek.asc] http://10.231.0.1/apt bookworm main\n"
    )
    deb822 = state(
        "pkgrepo.managed",
        "linkpeek-822",
        uris="http://10.231.0.1/apt2",
        suites="bookworm",
        components=["main", "contrib"],
        file="/etc/apt/sources.list.d/linkpeek2.sources",
        key_url="salt://apt/linkpeek.asc",
        signed_by="/etc/apt/keyrings/linkpeek.asc",
    )
    real = assert_test_predicts_run(host, [deb822])
    assert set(real[0]["changes"]) == {"source"}  # the key is already there
    uris = host.run(["apt-get", "--print-uris", "update"]).stdout
    assert "http://10.231.0.1/apt/dists/bookworm/" in uris
    assert "http://10.231.0.1/apt2/dists/bookworm/" in uris

    real = assert_test_predicts_run(
        host, [state("pkgrepo.absent", "x", file="/etc/apt/sources.list.d/linkpeek2.sources")]
    )
    assert not host.exists("/etc/apt/sources.list.d/linkpeek2.sources")


def test_missing_key_file_fails_clearly(module_host):
    res = apply_states(
        module_host,
        [
            state(
                "pkgrepo.managed",
                "deb http://10.231.0.1/apt bookworm main",
                file="/etc/apt/sources.list.d/nokey.list",
                key_url="salt://apt/missing.asc",
                signed_by="/etc/apt/keyrings/missing.asc",
            )
        ],
    )[0]
    assert res["result"] is False and "salt://apt/missing.asc" in res["comment"]
    assert not module_host.exists("/etc/apt/sources.list.d/nokey.list")
