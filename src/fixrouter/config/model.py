"""The loaded router configuration: frozen values, one `SessionSettings` per FIX session.

Each session's settings are split by the layer that uses them, so every layer takes only
its own part: `SessionConfig` for the sans-I/O core, `TransportSettings` for the asyncio
adapter, `StoreSettings` for the journal. The engine keys everything by `name`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from fixrouter.session import SessionConfig
from fixrouter.store import Durability
from fixrouter.transport.settings import TransportSettings


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """Where one session's journal lives and how durable a record is before it is sent."""

    directory: Path
    """FileStorePath, absolute. The journal stem inside it is `stem(...)`."""
    durability: Durability = Durability.OS

    def stem(self, config: SessionConfig) -> Path:
        """The journal stem `<dir>/<BeginString>-<SenderCompID>-<TargetCompID>`, as QuickFIX
        names its FileStore files."""
        return self.directory / (
            f"{config.begin_string}-{config.sender_comp_id}-{config.target_comp_id}"
        )


@dataclass(frozen=True, slots=True)
class SessionSettings:
    """Everything about one configured FIX session."""

    name: str
    """Unique within the file; the key of the session in logs, metrics and routing."""
    session: SessionConfig
    transport: TransportSettings
    store: StoreSettings


@dataclass(frozen=True, slots=True)
class RouterConfig:
    """A whole router TOML file."""

    sessions: tuple[SessionSettings, ...]
    source: Path | None = None
    """The file it was read from (None when built from a string)."""
    sections: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    """Other top-level tables (`[gateway]`, ...), parsed by the parsers the caller passed."""

    def session(self, name: str) -> SessionSettings:
        """The session called `name`. Raises KeyError."""
        for settings in self.sessions:
            if settings.name == name:
                return settings
        raise KeyError(name)
