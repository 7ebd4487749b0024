"""The `[routing]` settings: which FIX session a new order goes out on.

Every key has a default, so a config without `[routing]` sends every order on the first
configured session, never fails over, refuses cancels for a session that is down, and
gives the sessions the ClOrdID prefixes `A`, `B`, `C`, ... in the order they are
configured::

    [routing]
    default_session = ["primary", "backup"]  # unmatched orders; most preferred first
    failover = false                         # true: skip a preferred session that is down
    cancel_while_down = "refuse"             # or "queue": send it when the session is back

    [routing.accounts]                       # IB account -> session(s)
    U1234567 = ["desk1"]

    [routing.strategies]                     # strategy name -> session(s)
    momo = ["desk2", "desk1"]

    [routing.prefixes]                       # session name -> ClOrdID prefix (1-6 letters/digits)
    desk1 = "D1"

Each route is a session name or an array of them, most preferred first. Precedence: the
order's `account`, then its strategy, then `default_session`. Account comes first because
an IB account is bound to the sessions IB entitled for it: an order on a session that
does not carry its account is rejected by IB, whatever strategy sent it. Without the key
`default_session` is the first configured session; `default_session = []` means "no
default": an order that matches no account and no strategy is denied `NO_ROUTE`.

`failover` applies to new orders only: the next session of the route that is logged on
takes the order. Working orders stay on their session whatever happens (cancels and
replaces go where the order is), which is why `cancel_while_down` exists.

A session's prefix may change between restarts without an id ever being reused (the order
book observes every ClOrdID of the session's journal and intent log), but keep it stable:
it is what an operator greps for.

Unknown keys, values of the wrong type, a session listed twice in one route, and names
that are not configured sessions (checked by `resolve` once the sessions are known), are a
`ConfigError` naming the key.
"""

from __future__ import annotations

import enum
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from fixrouter.errors import ConfigError

_KEYS = ("default_session", "accounts", "strategies", "prefixes", "failover",
         "cancel_while_down")  # fmt: skip
_AUTO_PREFIXES = string.ascii_uppercase

Route = tuple[str, ...]
"""Session names, most preferred first. Empty only for `default_session = []`."""


class CancelWhileDown(enum.StrEnum):
    """What a cancel of a working order gets while the order's session is down."""

    REFUSE = "refuse"
    """`cancel_rejected` at once, naming the session; the strategy decides what next."""
    QUEUE = "queue"
    """Held in memory and sent when the session has logged on again (lost if the engine
    stops first: the strategy asks `orders` after a restart)."""


def _empty() -> Mapping[str, Route]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    """The parsed `[routing]` table (session names not yet checked: see `resolve`)."""

    default_session: Route | None = None
    """None: the key is absent (the first configured session)."""
    accounts: Mapping[str, Route] = field(default_factory=_empty)
    strategies: Mapping[str, Route] = field(default_factory=_empty)
    prefixes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    failover: bool = False
    cancel_while_down: CancelWhileDown = CancelWhileDown.REFUSE

    @classmethod
    def from_toml_table(cls, table: Mapping[str, Any]) -> RoutingConfig:
        """Raises ConfigError naming an unknown key or a value of the wrong type."""
        if not isinstance(table, Mapping):
            raise ConfigError("must be a table")
        for key in table:
            if key not in _KEYS:
                raise ConfigError(f"unknown key {key!r} (known: {', '.join(_KEYS)})")
        default = table.get("default_session")
        failover = table.get("failover", False)
        if not isinstance(failover, bool):
            raise ConfigError(f"failover: expected true or false, got {failover!r}")
        cancel = table.get("cancel_while_down", CancelWhileDown.REFUSE.value)
        try:
            cancel_while_down = CancelWhileDown(cancel)
        except ValueError:
            raise ConfigError(
                f'cancel_while_down: expected "refuse" or "queue", got {cancel!r}') from None
        prefixes = table.get("prefixes", {})
        if not isinstance(prefixes, Mapping):
            raise ConfigError("prefixes: must be a table of names")
        for key, item in prefixes.items():
            if not isinstance(item, str) or not item:
                raise ConfigError(f"prefixes.{key}: expected a string, got {item!r}")
        return cls(
            default_session=None if default is None
            else _route(default, "default_session", allow_empty=True),
            accounts=_routes(table.get("accounts", {}), "accounts"),
            strategies=_routes(table.get("strategies", {}), "strategies"),
            prefixes=MappingProxyType(dict(prefixes)),
            failover=failover,
            cancel_while_down=cancel_while_down,
        )

    def resolve(self, sessions: Sequence[str]) -> Routes:
        """Check every name against the configured sessions and fill in the defaults.

        Raises ConfigError naming a session that is not configured, or a session left
        without a prefix when more than 26 sessions are configured.
        """
        if not sessions:
            raise ConfigError("no FIX session to route orders to")
        known = set(sessions)

        def check(route: Route, where: str) -> Route:
            for name in route:
                if name not in known:
                    raise ConfigError(
                        f"[routing] {where}: no session {name!r} (sessions: {', '.join(sessions)})"
                    )
            return route

        default = (sessions[0],) if self.default_session is None \
            else check(self.default_session, "default_session")
        accounts = {a: check(r, f"accounts.{a}") for a, r in self.accounts.items()}
        strategies = {s: check(r, f"strategies.{s}") for s, r in self.strategies.items()}
        for name in self.prefixes:
            check((name,), f"prefixes.{name}")
        taken = set(self.prefixes.values())
        spare = (p for p in _AUTO_PREFIXES if p not in taken)
        prefixes: dict[str, str] = {}
        for name in sessions:
            prefix = self.prefixes.get(name) or next(spare, None)
            if prefix is None:
                raise ConfigError(f"[routing] prefixes.{name}: set a ClOrdID prefix")
            prefixes[name] = prefix
        return Routes(default, MappingProxyType(accounts), MappingProxyType(strategies),
                      MappingProxyType(prefixes), self.failover, self.cancel_while_down)


@dataclass(frozen=True, slots=True)
class Routes:
    """Resolved routing: every name is a configured session. The router compiles it into
    a `fixrouter.routing.table.RouteTable` of its session handles."""

    default: Route
    """Where an order matching no account and no strategy goes; () = denied NO_ROUTE."""
    accounts: Mapping[str, Route]
    strategies: Mapping[str, Route]
    prefixes: Mapping[str, str]
    failover: bool = False
    cancel_while_down: CancelWhileDown = CancelWhileDown.REFUSE

    @property
    def default_session(self) -> str | None:
        """The default route's preferred session (None: no default route)."""
        return self.default[0] if self.default else None


def _route(value: object, where: str, *, allow_empty: bool = False) -> Route:
    """A session name or an array of them. Raises ConfigError naming `where`."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where}: expected a session name or an array of them, "
                          f"got {value!r}")
    if not value and not allow_empty:
        raise ConfigError(f"{where}: expected at least one session name")
    for name in value:
        if value.count(name) > 1:
            raise ConfigError(f"{where}: session {name!r} is listed twice")
    return tuple(value)


def _routes(value: object, where: str) -> Mapping[str, Route]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: must be a table of names")
    return MappingProxyType({key: _route(item, f"{where}.{key}") for key, item in value.items()})
