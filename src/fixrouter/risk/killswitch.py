"""Kill switches for the engine, an account or a strategy, and the automatic triggers.

Theory of operation
-------------------
A switch is engaged in one of three scopes: the whole engine, one account, or one
strategy. While a switch covers an order (the engine's, its account's or its strategy's)
the gate refuses new orders and replaces with KILL_SWITCH. Cancels are never blocked: a
kill switch exists to take risk off, and a cancel only does that. Engaging may also ask
the router to cancel every working order in scope (`cancel_all`, RTS 6 Art. 12); the gate
reports which, the router sends the cancels.

Releasing is always a manual act (an admin command): nothing in the engine releases a
switch, not a reload, not a new day. Engaging a switch that is already engaged keeps the
first engagement (its time and reason are what an investigation needs).

Automatic triggers (`KillSwitchSettings`) engage a *strategy's* switch:

* more than `max_denials` risk denials of the strategy's requests within
  `window_seconds` (a strategy hammering a limit is misbehaving);
* more than `max_rejects` broker rejects of its orders within `window_seconds`;
* a fill that takes a position past its `max_position` (only a fill the gate could not
  prevent can do that: an over-fill, a tightened limit, an order adopted from IB).

Each trigger is a sliding window of timestamps per strategy (a deque; old stamps fall
off the left as new ones arrive), so the check is O(1) amortised and keeps only
`max_* + 1` stamps per strategy.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass

from fixrouter.errors import ConfigError


class KillScope(enum.StrEnum):
    ENGINE = "engine"
    ACCOUNT = "account"
    STRATEGY = "strategy"


@dataclass(frozen=True, slots=True)
class KillSwitchSettings:
    """The automatic triggers. A count of 0 switches that trigger off."""

    max_denials: int = 20
    max_rejects: int = 10
    window_seconds: float = 10.0
    on_position_breach: bool = True
    cancel_all: bool = True  # automatic engagements also cancel the strategy's orders

    def __post_init__(self) -> None:
        for key in ("max_denials", "max_rejects"):
            if getattr(self, key) < 0:
                raise ConfigError(f"{key}: must be 0 (off) or more")
        if not self.window_seconds > 0:
            raise ConfigError("window_seconds: must be above 0")


@dataclass(frozen=True, slots=True)
class Engagement:
    """One engaged switch. `name` is the account or strategy ("" for the engine)."""

    scope: KillScope
    name: str
    reason: str
    since: float
    automatic: bool = False


class KillSwitch:
    """Which switches are engaged. `active` is False when none is: the hot path tests it
    before anything else."""

    __slots__ = ("accounts", "active", "engine", "strategies")

    def __init__(self) -> None:
        self.engine: Engagement | None = None
        self.accounts: dict[str, Engagement] = {}
        self.strategies: dict[str, Engagement] = {}
        self.active = False

    def engage(
        self, scope: KillScope, name: str, reason: str, now: float, automatic: bool = False
    ) -> Engagement:
        """Engage (or find already engaged) the switch; returns the engagement in force."""
        if scope is KillScope.ENGINE:
            if self.engine is None:
                self.engine = Engagement(scope, "", reason, now, automatic)
            found = self.engine
        else:
            table = self.accounts if scope is KillScope.ACCOUNT else self.strategies
            found = table.get(name) or table.setdefault(
                name, Engagement(scope, name, reason, now, automatic)
            )
        self.active = True
        return found

    def release(self, scope: KillScope, name: str = "") -> Engagement | None:
        """Release a switch; returns what was released (None if it was not engaged)."""
        if scope is KillScope.ENGINE:
            found, self.engine = self.engine, None
        elif scope is KillScope.ACCOUNT:
            found = self.accounts.pop(name, None)
        else:
            found = self.strategies.pop(name, None)
        self.active = self.engine is not None or bool(self.accounts) or bool(self.strategies)
        return found

    def blocking(self, account: str, strategy: str) -> Engagement | None:
        """The engagement that covers an order of `strategy` on `account`, if any
        (the engine's first, then the account's, then the strategy's)."""
        if self.engine is not None:
            return self.engine
        return self.accounts.get(account) or self.strategies.get(strategy)

    def engaged(self) -> list[Engagement]:
        out = [] if self.engine is None else [self.engine]
        out.extend(self.accounts.values())
        out.extend(self.strategies.values())
        return out


class SlidingCount:
    """Events per key within the last `window` seconds; `hit` says when more than
    `limit` happened. A limit of 0 is off."""

    __slots__ = ("_stamps", "limit", "window")

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._stamps: dict[str, deque[float]] = {}

    def hit(self, key: str, now: float) -> int:
        """Record one event; return the count in the window if it is past the limit,
        else 0."""
        if not self.limit:
            return 0
        stamps = self._stamps.get(key)
        if stamps is None:
            stamps = self._stamps[key] = deque(maxlen=self.limit + 1)
        stamps.append(now)
        horizon = now - self.window
        while stamps and stamps[0] <= horizon:
            stamps.popleft()
        return len(stamps) if len(stamps) > self.limit else 0

    def retune(self, limit: int, window: float) -> None:
        if limit != self.limit:
            self._stamps.clear()  # the deques are sized by the old limit
        self.limit = limit
        self.window = window

    def forget(self, key: str) -> None:
        self._stamps.pop(key, None)
