"""The routing decision for a new order: a precomputed table, a failover rule, counters.

Theory of operation
-------------------
`Routes` (from `[routing]`, see `fixrouter.routing.config`) names sessions; the router
holds session *handles* (its per-session link objects). `RouteTable(routes, handles)`
replaces every name by its handle once, at start-up, so the hot path is at most three
dict look-ups and no allocation::

    candidates(strategy, account):
        account given and listed in [routing.accounts]  -> that route
        strategy listed in [routing.strategies]         -> that route
        otherwise                                       -> default_session's route

A route is a tuple of handles, most preferred first. The empty tuple means *no route*:
the router denies the order `NO_ROUTE` (only possible with `default_session = []`). That
is a statement about the configuration, so a strategy should not retry it; a route whose
sessions are merely down is a different refusal (`ENGINE_UNAVAILABLE`), which it may.

Whether a session is up is the router's business (the transport's `logged_on`): the
router looks at the preferred handle itself and only calls `first_up` when it is down,
so the failover rule costs nothing while the preferred session is up. `first_up` skips
down sessions in preference order; with `failover = false` the router never calls it.

What the decision never touches: a working order's cancel or replace. Those go to the
session the order book recorded for the order, which no table can override.

`RoutingStats` holds plain counters (failovers by preferred -> chosen session, cancels
queued while a session was down) for the metrics collector to read at scrape time. Both
label sets are configured session names, so cardinality is bounded by the config.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Generic, TypeVar

from fixrouter.errors import ConfigError

from .config import CancelWhileDown, Routes

S = TypeVar("S")


class RouteTable(Generic[S]):
    """`Routes` compiled to session handles. Immutable after construction."""

    __slots__ = ("_accounts", "_default", "_strategies", "cancel_while_down", "failover")

    def __init__(self, routes: Routes, handles: Mapping[str, S]) -> None:
        """Raises ConfigError if a route names a session that has no handle."""

        def compile_(names: tuple[str, ...], where: str) -> tuple[S, ...]:
            try:
                return tuple(handles[name] for name in names)
            except KeyError as exc:
                raise ConfigError(
                    f"[routing] {where}: session {exc.args[0]!r} is not held by the engine"
                ) from None

        self._default = compile_(routes.default, "default_session")
        self._accounts = {a: compile_(r, f"accounts.{a}") for a, r in routes.accounts.items()}
        self._strategies = {s: compile_(r, f"strategies.{s}")
                            for s, r in routes.strategies.items()}
        self.failover = routes.failover
        self.cancel_while_down = routes.cancel_while_down

    @classmethod
    def unrouted(cls) -> RouteTable[S]:
        """A table that routes nothing: what the router holds before it has sessions."""
        return cls(Routes((), {}, {}, {}), {})

    def candidates(self, strategy: str, account: str | None) -> tuple[S, ...]:
        """The route for a new order, most preferred first; () = no route."""
        if account is not None:
            route = self._accounts.get(account)
            if route is not None:
                return route
        return self._strategies.get(strategy, self._default)

    def rule(self, strategy: str, account: str | None) -> str:
        """Which rule `candidates` applied, for log lines and refusals (cold path)."""
        if account is not None and account in self._accounts:
            return f"accounts.{account}"
        if strategy in self._strategies:
            return f"strategies.{strategy}"
        return "default_session"


def first_up(route: Iterable[S], is_up: Callable[[S], bool]) -> S | None:
    """The first session of `route` that is up, in preference order; None if none is."""
    for handle in route:
        if is_up(handle):
            return handle
    return None


class RoutingStats:
    """Plain counters, read by the metrics collector at scrape time."""

    __slots__ = ("cancels_queued", "failovers")

    def __init__(self) -> None:
        self.failovers: dict[tuple[str, str], int] = {}
        """New orders sent on a later session of their route: (preferred, chosen) -> n."""
        self.cancels_queued = 0
        """Cancels held for a session that was down (`cancel_while_down = "queue"`)."""

    def failover(self, preferred: str, chosen: str) -> None:
        key = (preferred, chosen)
        self.failovers[key] = self.failovers.get(key, 0) + 1


__all__ = ["CancelWhileDown", "RouteTable", "RoutingStats", "first_up"]
