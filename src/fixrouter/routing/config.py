"""The `[routing]` settings: which FIX session each strategy's orders go out on.

Every key has a default, so a config without `[routing]` sends every order on the first
configured session and gives the sessions the ClOrdID prefixes `A`, `B`, `C`, ... in the
order they are configured::

    [routing]
    default_session = "desk1"       # where orders go unless the strategy is listed below

    [routing.strategies]            # strategy name -> session name
    momentum = "desk2"

    [routing.prefixes]              # session name -> ClOrdID prefix (1-6 letters/digits)
    desk1 = "D1"

A session's prefix may change between restarts without an id ever being reused (the order
book observes every ClOrdID of the session's journal and intent log), but keep it stable:
it is what an operator greps for.

Unknown keys, and names that are not configured sessions (checked by `resolve` once the
sessions are known), are a `ConfigError` naming them.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from fixrouter.errors import ConfigError

_KEYS = ("default_session", "strategies", "prefixes")
_AUTO_PREFIXES = string.ascii_uppercase


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    """The parsed `[routing]` table (session names not yet checked: see `resolve`)."""

    default_session: str | None = None
    strategies: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    prefixes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_toml_table(cls, table: Mapping[str, Any]) -> RoutingConfig:
        """Raises ConfigError naming an unknown key or a value of the wrong type."""
        if not isinstance(table, Mapping):
            raise ConfigError("must be a table")
        for key in table:
            if key not in _KEYS:
                raise ConfigError(f"unknown key {key!r} (known: {', '.join(_KEYS)})")
        default = table.get("default_session")
        if default is not None and (not isinstance(default, str) or not default):
            raise ConfigError(f"default_session: expected a session name, got {default!r}")
        return cls(
            default_session=default,
            strategies=_names(table.get("strategies", {}), "strategies"),
            prefixes=_names(table.get("prefixes", {}), "prefixes"),
        )

    def resolve(self, sessions: Sequence[str]) -> Routes:
        """Check every name against the configured sessions and fill in the defaults.

        Raises ConfigError naming a session that is not configured, or a session left
        without a prefix when more than 26 sessions are configured.
        """
        if not sessions:
            raise ConfigError("no FIX session to route orders to")
        known = set(sessions)

        def check(name: str, where: str) -> str:
            if name not in known:
                raise ConfigError(
                    f"[routing] {where}: no session {name!r} (sessions: {', '.join(sessions)})"
                )
            return name

        default = check(self.default_session, "default_session") if self.default_session \
            else sessions[0]
        strategies = {s: check(n, f"strategies.{s}") for s, n in self.strategies.items()}
        for name in self.prefixes:
            check(name, f"prefixes.{name}")
        taken = set(self.prefixes.values())
        spare = (p for p in _AUTO_PREFIXES if p not in taken)
        prefixes: dict[str, str] = {}
        for name in sessions:
            prefix = self.prefixes.get(name) or next(spare, None)
            if prefix is None:
                raise ConfigError(f"[routing] prefixes.{name}: set a ClOrdID prefix")
            prefixes[name] = prefix
        return Routes(default, MappingProxyType(strategies), MappingProxyType(prefixes))


@dataclass(frozen=True, slots=True)
class Routes:
    """Resolved routing: every name is a configured session."""

    default_session: str
    strategies: Mapping[str, str]
    prefixes: Mapping[str, str]


def _names(value: object, where: str) -> Mapping[str, str]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: must be a table of names")
    for key, item in value.items():
        if not isinstance(item, str) or not item:
            raise ConfigError(f"{where}.{key}: expected a string, got {item!r}")
    return MappingProxyType(dict(value))
