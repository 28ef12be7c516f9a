"""What the master needs to serve remote converges: the file server, pillar, and masking.

One object per daemon (MasterServices holds it as `converge`), built from the config:

    converge = ConvergeServices(config)
    converge.files        FileServer over config.state_tree
    converge.pillar       PillarService over config.pillar_tree, with ROOT/pki/secrets/secrets.key
    converge.masker       every secret value the master has decrypted (its log filter uses it)
    converge.mask_wire_return(minion_id, ret)   a wire Return with secrets masked (before storing)
"""
from __future__ import annotations

from typing import Any, Mapping

from core.errors import LinkpeekError
from core.masking import Masker
from master.fileserver import FileServer
from master.minion_grains import grains_of
from master.pillar import PillarService, secrets_key_path


class ConvergeServices:
    """The file server, the pillar service and the master's masker, sharing one config."""

    def __init__(self, config: Any, grains: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.masker = Masker()
        self.files = FileServer(config.state_tree, max_size=config.fileserver_max_size * 1024 * 1024)
        self.pillar = PillarService(config.pillar_tree, secrets_key_path(config.root), self.masker)
        self.pillar.check_secrets_key()  # an exposed secrets key: the master does not start
        self._grains = grains if grains is not None else {}  # the master's live id -> grains map
        self._primed: set[str] = set()

    def mask_wire_return(self, minion_id: str, ret: Any) -> Any:
        """A core.wire.Return with its data masked (what the job store and the CLI get).

        The first state.* return from a minion after a master start primes the masker with
        that minion's pillar secrets (a spooled return can arrive before any pillar request).
        """
        if str(getattr(ret, "fun", "")).startswith("state."):
            self._prime(minion_id)
        if not self.masker:
            return ret
        import dataclasses
        return dataclasses.replace(ret, ret=self.mask_return(minion_id, ret.ret))

    def mask_return(self, minion_id: str, ret: Any) -> Any:
        """Mask a minion's returned data before it is stored or printed.

        The minion masks first; this is the second net, with every secret the master
        compiled for that minion (and any other, since all are known here).
        """
        masker = self.masker
        if not masker:
            return ret
        return masker.mask_state_return(ret) if _is_state_return(ret) else masker.mask_data(ret)


    def _prime(self, minion_id: str) -> None:
        """Learn a minion's secrets once per process when no pillar was compiled for it yet
        (a return spooled before a master restart arrives before any pillar request)."""
        if minion_id in self._primed:
            return
        self._primed.add(minion_id)
        if self.pillar.secrets_of(minion_id):
            return
        try:
            self.pillar.compile_for(minion_id, grains_of(self._grains, minion_id))
        except LinkpeekError:
            pass  # the minion masked its return itself; its pillar error is reported elsewhere


def _is_state_return(ret: Any) -> bool:
    return isinstance(ret, dict) and bool(ret) and all(
        isinstance(k, str) and "_|-" in k and isinstance(v, dict) for k, v in ret.items())
