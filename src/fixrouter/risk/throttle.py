"""The message throttle of one FIX session: token buckets, a bounded queue, cancels first.

Theory of operation
-------------------
Two token buckets per session, both refilled continuously from the time passed in
(`now`, monotonic seconds; the throttle never reads a clock):

* the **order bucket** (`rate` tokens per second, at most `burst` stored) pays for new
  orders and replaces;
* the **cancel bucket** (`cancel_rate`, `cancel_burst`, set higher) pays for cancels
  only, so no burst of orders can ever starve a cancel of its token.

`admit(kind, item, now)` answers one of:

* `ADMIT`: a token was taken, send now;
* `Queue(release_at, depth)`: the throttle keeps `item` and hands it back from
  `drain(now)` at or after `release_at`;
* `Deny(reason, limit, value)`: refused (the gate turns it into a RATE_LIMIT denial).

New orders and replaces with no token are queued (mode `queue`, at most `queue_depth`
held; past that, denied) or denied at once (mode `deny`). They leave the queue in
arrival order, and an order never overtakes a queued one: while anything is queued, a
new arrival queues behind it even if a token has come back meanwhile.

Cancels are never denied. With no cancel token they wait in their own queue, which has
no bound on purpose: the order book allows one pending cancel per order, so it is bounded
by the working orders. Cancels jump every queued order: `drain` releases waiting cancels
first, and a cancel with a token goes out at once while orders wait.

The session's worst-case outbound application rate is `rate + cancel_rate` per second
(plus the two bursts); tune both to what IB set for the session.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

from fixrouter.errors import ConfigError

T = TypeVar("T")

_EPS: Final = 1e-9  # float slack, so a token due at exactly `release_at` is there at that time
_ONE: Final = 1.0 - _EPS


class MsgKind(enum.Enum):
    NEW = "new"
    REPLACE = "replace"
    CANCEL = "cancel"


class ThrottleMode(enum.StrEnum):
    DENY = "deny"
    QUEUE = "queue"


# Enum members as module constants: `MsgKind.CANCEL` is a 60 ns class look-up in 3.11.
_CANCEL: Final = MsgKind.CANCEL
_DENY: Final = ThrottleMode.DENY


@dataclass(frozen=True, slots=True)
class ThrottleSettings:
    """One session's throttle. Raises ConfigError (naming the key) on a bad value."""

    rate: float = 20.0
    burst: int = 10
    cancel_rate: float = 40.0
    cancel_burst: int = 20
    mode: ThrottleMode = ThrottleMode.DENY
    queue_depth: int = 100

    def __post_init__(self) -> None:
        for key in ("rate", "cancel_rate"):
            if not getattr(self, key) > 0:
                raise ConfigError(f"{key}: must be above 0 (messages per second)")
        for key in ("burst", "cancel_burst"):
            if getattr(self, key) < 1:
                raise ConfigError(f"{key}: must be at least 1 (a bucket must hold a token)")
        if self.queue_depth < 0:
            raise ConfigError("queue_depth: must be 0 or more")


@dataclass(frozen=True, slots=True)
class Admit:
    """Send now."""


ADMIT: Final = Admit()


@dataclass(frozen=True, slots=True)
class Queue:
    """Held by the throttle; `drain(now)` hands it back from `release_at` on.
    `depth` is how many requests of its queue were held when it joined (itself included)."""

    release_at: float
    depth: int


@dataclass(frozen=True, slots=True)
class Deny:
    """Refused by the throttle: no token (mode `deny`) or the queue is full."""

    reason: str
    limit: str
    value: str


class _Bucket:
    __slots__ = ("burst", "last", "rate", "tokens")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.last: float | None = None

    def refill(self, now: float) -> float:
        last = self.last
        if last is None:
            self.last = now
        elif now > last:  # a clock that steps back refills nothing, never goes negative
            tokens = self.tokens + (now - last) * self.rate
            self.tokens = tokens if tokens < self.burst else self.burst
            self.last = now
        return self.tokens

    def due(self, now: float) -> float:
        """When the bucket next holds a whole token (after `refill(now)`)."""
        missing = 1.0 - self.tokens
        return now if missing <= _EPS else now + missing / self.rate


def _release_at(bucket: _Bucket, waiting: int, now: float) -> float:
    """When the last of `waiting` queued requests paid by `bucket` is due, if nothing
    else arrives: one token each, in order."""
    bucket.refill(now)
    missing = waiting - bucket.tokens
    return now if missing <= _EPS else now + missing / bucket.rate


class Throttle(Generic[T]):
    """The throttle of one session; `T` is whatever the caller queues (requests)."""

    __slots__ = ("_cancels", "_orders", "_queue", "_queued_cancels", "settings")

    def __init__(self, settings: ThrottleSettings) -> None:
        self.settings = settings
        self._orders = _Bucket(settings.rate, settings.burst)
        self._cancels = _Bucket(settings.cancel_rate, settings.cancel_burst)
        self._queue: deque[T] = deque()
        self._queued_cancels: deque[T] = deque()

    @property
    def queued(self) -> int:
        """Requests held (orders and replaces, plus cancels)."""
        return len(self._queue) + len(self._queued_cancels)

    def admit(self, kind: MsgKind, item: T, now: float) -> Admit | Queue | Deny:
        if kind is _CANCEL:
            bucket = self._cancels
            if not self._queued_cancels and bucket.refill(now) >= _ONE:
                bucket.tokens -= 1.0
                return ADMIT
            self._queued_cancels.append(item)
            waiting = len(self._queued_cancels)
            return Queue(_release_at(bucket, waiting, now), waiting)
        bucket = self._orders
        queue = self._queue
        if not queue:
            # `bucket.refill(now)`, inlined: this is every order's path.
            tokens = bucket.tokens
            last = bucket.last
            if last is None:
                bucket.last = now
            elif now > last:
                tokens += (now - last) * bucket.rate
                if tokens > bucket.burst:
                    tokens = bucket.burst
                bucket.last = now
            if tokens >= _ONE:
                bucket.tokens = tokens - 1.0
                return ADMIT
            bucket.tokens = tokens
        settings = self.settings
        if settings.mode is _DENY:
            return Deny(
                "message rate limit reached on the session",
                f"{settings.rate:g}/s burst {settings.burst}",
                f"{bucket.tokens:.2f} tokens",
            )
        if len(queue) >= settings.queue_depth:
            return Deny(
                "message rate limit reached and the send queue is full",
                f"queue_depth {settings.queue_depth}",
                str(len(queue)),
            )
        queue.append(item)
        return Queue(_release_at(bucket, len(queue), now), len(queue))

    def drain(self, now: float) -> list[T]:
        """The held requests due now, cancels first, each paid with a token."""
        out: list[T] = []
        if self._queued_cancels:
            bucket = self._cancels
            bucket.refill(now)
            while self._queued_cancels and bucket.tokens >= _ONE:
                bucket.tokens -= 1.0
                out.append(self._queued_cancels.popleft())
        if self._queue:
            bucket = self._orders
            bucket.refill(now)
            while self._queue and bucket.tokens >= _ONE:
                bucket.tokens -= 1.0
                out.append(self._queue.popleft())
        return out

    def next_release(self, now: float) -> float | None:
        """When `drain` next has something to hand back (None: nothing is held). Arm
        the session's timer for it."""
        due: float | None = None
        if self._queued_cancels:
            self._cancels.refill(now)
            due = self._cancels.due(now)
        if self._queue:
            self._orders.refill(now)
            t = self._orders.due(now)
            due = t if due is None or t < due else due
        return due

    def remove(self, match: Callable[[T], bool]) -> list[T]:
        """Take out the queued orders and replaces `match` selects (a kill switch, a
        strategy cancelling an order that never left); their tokens were never taken."""
        kept: deque[T] = deque()
        taken: list[T] = []
        for item in self._queue:
            (taken if match(item) else kept).append(item)
        self._queue = kept
        return taken

    def retune(self, settings: ThrottleSettings) -> None:
        """New rates and sizes from a reload. Stored tokens are kept (capped at the new
        burst) and nothing queued is dropped, even past a smaller `queue_depth`."""
        self.settings = settings
        for bucket, rate, burst in (
            (self._orders, settings.rate, settings.burst),
            (self._cancels, settings.cancel_rate, settings.cancel_burst),
        ):
            bucket.rate = rate
            bucket.burst = float(burst)
            bucket.tokens = min(bucket.tokens, bucket.burst)
