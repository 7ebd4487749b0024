"""Tests for fixrouter.transport.reconnect: back-off, jitter and host rotation, no sockets."""

from __future__ import annotations

import random

import pytest

from fixrouter.transport import Endpoint, ReconnectPolicy

PRIMARY = Endpoint("10.0.0.1", 9878)
BACKUP = Endpoint("10.0.0.2", 9879)


class FixedUniform:
    """A random source that always returns the same point of the interval (0 = low end)."""

    def __init__(self, point: float = 1.0) -> None:
        self.point = point
        self.calls: list[tuple[float, float]] = []

    def uniform(self, a: float, b: float) -> float:
        self.calls.append((a, b))
        return a + (b - a) * self.point


def policy(*endpoints: Endpoint, base: float = 1.0, cap: float = 30.0, jitter: float = 0.0,
           rng: FixedUniform | None = None) -> ReconnectPolicy:  # fmt: skip
    return ReconnectPolicy(endpoints or (PRIMARY,), base=base, cap=cap, jitter=jitter, rng=rng)


def delays_after_failures(p: ReconnectPolicy, n: int) -> list[tuple[Endpoint, float]]:
    out = []
    for _ in range(n):
        attempt = p.next_attempt()
        out.append((attempt.endpoint, attempt.delay))
        p.failed()
    return out


def test_first_attempt_goes_at_once_to_the_primary() -> None:
    attempt = policy(PRIMARY, BACKUP).next_attempt()
    assert (attempt.endpoint, attempt.delay) == (PRIMARY, 0.0)


def test_one_host_backs_off_exponentially_up_to_the_cap() -> None:
    p = policy(base=1.0, cap=10.0)
    delays = [d for _, d in delays_after_failures(p, 7)]
    assert delays == [0.0, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_failover_tries_the_backup_next_and_doubles_per_cycle() -> None:
    p = policy(PRIMARY, BACKUP, base=1.0, cap=100.0)
    assert delays_after_failures(p, 7) == [
        (PRIMARY, 0.0),
        (BACKUP, 1.0),
        (PRIMARY, 1.0),
        (BACKUP, 2.0),
        (PRIMARY, 2.0),
        (BACKUP, 4.0),
        (PRIMARY, 4.0),
    ]


def test_logon_resets_and_a_drop_goes_back_to_the_primary_after_the_base() -> None:
    p = policy(PRIMARY, BACKUP, base=3.0, cap=100.0)
    delays_after_failures(p, 5)  # now on the backup with a long wait
    p.logged_on()
    assert p.failures == 0
    attempt = p.next_attempt()
    assert (attempt.endpoint, attempt.delay) == (PRIMARY, 3.0)
    p.failed()
    attempt = p.next_attempt()
    assert (attempt.endpoint, attempt.delay) == (BACKUP, 3.0)


def test_jitter_only_shortens_the_wait() -> None:
    low = FixedUniform(0.0)
    p = policy(base=10.0, cap=10.0, jitter=0.25, rng=low)
    p.failed()
    assert p.next_attempt().delay == pytest.approx(7.5)
    assert low.calls == [(0.75, 1.0)]
    high = FixedUniform(1.0)
    p = policy(base=10.0, cap=10.0, jitter=0.25, rng=high)
    p.failed()
    assert p.next_attempt().delay == pytest.approx(10.0)


def test_jitter_spreads_real_random_delays_within_bounds() -> None:
    p = ReconnectPolicy([PRIMARY], base=2.0, cap=60.0, jitter=0.5, rng=random.Random(7))
    p.failed()
    delays = {p.next_attempt().delay for _ in range(50)}
    assert len(delays) > 40
    assert all(1.0 <= d <= 2.0 for d in delays)


def test_a_very_long_outage_does_not_overflow() -> None:
    p = policy(base=1.0, cap=300.0)
    for _ in range(5000):
        p.failed()
    assert p.next_attempt().delay == 300.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"endpoints": []}, "at least one endpoint"),
        ({"base": 0.0}, "base must be positive"),
        ({"cap": 0.5}, "below base"),
        ({"jitter": 1.0}, "jitter must be in"),
        ({"jitter": -0.1}, "jitter must be in"),
    ],
)
def test_invalid_parameters(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"endpoints": [PRIMARY], "base": 1.0, "cap": 2.0, "jitter": 0.0}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        ReconnectPolicy(**args)  # type: ignore[arg-type]


def test_endpoint_prints_as_host_port() -> None:
    assert str(BACKUP) == "10.0.0.2:9879"
