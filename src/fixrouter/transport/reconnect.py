"""When and where to reconnect: exponential back-off with jitter, rotated across hosts.

Theory of operation
-------------------
A session has an ordered list of endpoints: the primary (``SocketConnectHost`` /
``SocketConnectPort``) followed by the backups (``SocketConnectHost1``/``Port1``, ...).
The policy answers one question, "which endpoint next, after how long?", and is told two
things: an attempt failed (the TCP connect failed, or the line dropped before a Logon was
accepted), or the session logged on.

* Consecutive failures walk through the endpoints in order, wrapping around, so a dead
  primary fails over to the backup on the very next attempt.
* The wait before attempt *k* (counting failures since the last logon) is
  ``min(cap, base * 2 ** (k // n))`` for *n* endpoints: every host in a cycle is tried at
  the same pace, and each full cycle that finds no live host doubles the pace, up to the
  cap. ``base`` is QuickFIX's ``ReconnectInterval``.
* Each wait is multiplied by a random factor in ``[1 - jitter, 1]``, so that many
  routers (or several sessions of one router) cut off by the same outage do not hammer
  the counterparty in lock-step when it comes back. Jitter only ever shortens the wait,
  so the cap is a real upper bound.
* A logon resets the count. After a line that had logged on drops, the first attempt goes
  back to the primary after one ``base`` wait (QuickFIX waits ``ReconnectInterval``
  too): a backup line is for when the primary is down, not a place to stay.
* The very first attempt after start-up goes at once.

The class holds no sockets and reads no clock; the random source is injected, so tests
pin every delay exactly.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class _Uniform(Protocol):
    def uniform(self, a: float, b: float, /) -> float: ...


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One address a session may connect to."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Attempt:
    """The next connection attempt: where, and how many seconds to wait first."""

    endpoint: Endpoint
    delay: float


class ReconnectPolicy:
    """Back-off and host rotation for one session. See the module docstring."""

    __slots__ = ("_base", "_cap", "_endpoints", "_failures", "_jitter", "_logged_on", "_rng")

    def __init__(
        self,
        endpoints: Sequence[Endpoint],
        *,
        base: float,
        cap: float,
        jitter: float = 0.2,
        rng: _Uniform | None = None,
    ) -> None:
        """Raises ValueError for no endpoints, a non-positive base, cap < base, or a
        jitter outside [0, 1)."""
        if not endpoints:
            raise ValueError("at least one endpoint is needed")
        if base <= 0:
            raise ValueError(f"base must be positive, not {base}")
        if cap < base:
            raise ValueError(f"cap {cap} is below base {base}")
        if not 0 <= jitter < 1:
            raise ValueError(f"jitter must be in [0, 1), not {jitter}")
        self._endpoints = tuple(endpoints)
        self._base = base
        self._cap = cap
        self._jitter = jitter
        self._rng: _Uniform = rng if rng is not None else random.Random()
        self._failures = 0
        # None: nothing tried yet (start-up goes at once). True: the last line logged on.
        self._logged_on: bool | None = None

    @property
    def endpoints(self) -> tuple[Endpoint, ...]:
        return self._endpoints

    @property
    def failures(self) -> int:
        """Failed attempts since the last logon (or start-up)."""
        return self._failures

    def next_attempt(self) -> Attempt:
        """Where to connect next and how long to wait before doing so."""
        endpoint = self._endpoints[self._failures % len(self._endpoints)]
        if self._logged_on is None:
            return Attempt(endpoint, 0.0)
        if self._logged_on:
            raw = self._base
        else:
            cycles = (self._failures - 1) // len(self._endpoints)
            # min() before the power would overflow for a very long outage.
            raw = self._cap if cycles >= 64 else min(self._cap, self._base * 2.0**cycles)
        factor = self._rng.uniform(1.0 - self._jitter, 1.0) if self._jitter else 1.0
        return Attempt(endpoint, raw * factor)

    def failed(self) -> None:
        """The last attempt did not reach a logon: move to the next host, back off more."""
        self._failures += 1
        self._logged_on = False

    def logged_on(self) -> None:
        """The session logged on: forget past failures; the next drop retries the primary."""
        self._failures = 0
        self._logged_on = True
