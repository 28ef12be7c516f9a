"""One exception tree for linkpeek-ops.

    LinkpeekError                 anything this project raises on purpose
    ├── ConfigError               a config file is missing, malformed or unsafe (bad permissions)
    ├── KeyStoreError             a key file or key state problem
    ├── WireError                 a message that cannot be decoded or is not allowed
    │   └── ProtocolVersionError  a peer speaks a protocol version we refuse
    ├── TransportError            the channel could not be opened, or the peer did not answer in time
    ├── UnsafePathError           a path from input that would leave its root (.., absolute, NUL, symlink)
    ├── RenderError               an SLS or template did not render (Jinja or YAML), with file:line
    ├── CompileError              high data did not compile (unknown requisite, cycle, conflicting IDs)
    ├── StateArgError             a state's arguments are invalid (caught at compile time)
    ├── SecretError               an ENC[...] token did not decrypt (wrong key, tampered, truncated)
    └── RunLockedError            another state run holds the host's lock

Errors are translated at the boundary (`raise X(...) from exc`); the CLIs turn them
into one-line messages and exit codes.
"""
from __future__ import annotations


class LinkpeekError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(LinkpeekError):
    pass


class KeyStoreError(LinkpeekError):
    pass


class WireError(LinkpeekError):
    pass


class ProtocolVersionError(WireError):
    pass


class TransportError(LinkpeekError):
    pass


class UnsafePathError(LinkpeekError):
    pass


class RenderError(LinkpeekError):
    """A render failure; `location` is `file:line` when known."""

    def __init__(self, message: str, location: str | None = None) -> None:
        self.location = location
        super().__init__(f"{location}: {message}" if location else message)


class CompileError(LinkpeekError):
    """One or more compile errors; `errors` lists every one, each naming its SLS file."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


class StateArgError(LinkpeekError):
    pass


class SecretError(LinkpeekError):
    pass


class RunLockedError(LinkpeekError):
    pass
