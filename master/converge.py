"""What the master needs to serve remote converges: the file server, pillar, and masking.

One object per daemon (MasterServices holds it as `converge`), built from the config:

    converge = ConvergeServices(config)
    converge.files        FileServer over config.state_tree
    converge.pillar       PillarService over config.pillar_tree, with ROOT/pki/secrets/secrets.key
    converge.masker       every secret value the master has decrypted (its log filter uses it)
    converge.mask_return(minion_id, ret)   a return's data with that minion's secrets masked
"""
from __future__ import annotations

from typing import Any

from core.masking import Masker
from master.fileserver import FileServer
from master.pillar import PillarService, secrets_key_path


class ConvergeServices:
    """The file server, the pillar service and the master's masker, sharing one config."""

    def __init__(self, config: Any) -> None:
        self.masker = Masker()
        self.files = FileServer(config.state_tree)
        self.pillar = PillarService(config.pillar_tree, secrets_key_path(config.root), self.masker)

    def mask_return(self, minion_id: str, ret: Any) -> Any:
        """Mask a minion's returned data before it is stored or printed.

        The minion masks first; this is the second net, with every secret the master
        compiled for that minion (and any other, since all are known here).
        """
        masker = self.masker
        if not masker:
            return ret
        return masker.mask_state_return(ret) if _is_state_return(ret) else masker.mask_data(ret)


def _is_state_return(ret: Any) -> bool:
    return isinstance(ret, dict) and bool(ret) and all(
        isinstance(k, str) and "_|-" in k and isinstance(v, dict) for k, v in ret.items())
