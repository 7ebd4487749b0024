"""The per-session throttle: token buckets, the bounded queue, cancels first."""

from __future__ import annotations

import pytest

from fixrouter.errors import ConfigError
from fixrouter.risk.throttle import (
    ADMIT,
    Deny,
    MsgKind,
    Queue,
    Throttle,
    ThrottleMode,
    ThrottleSettings,
)

NEW, REPLACE, CANCEL = MsgKind.NEW, MsgKind.REPLACE, MsgKind.CANCEL
T = 100.0


def throttle(**kw: object) -> Throttle[str]:
    settings = {"rate": 10.0, "burst": 3, "cancel_rate": 20.0, "cancel_burst": 2, **kw}
    return Throttle(ThrottleSettings(**settings))  # type: ignore[arg-type]


def test_burst_then_deny_at_the_limit() -> None:
    th = throttle()
    assert [th.admit(NEW, f"o{i}", T) for i in range(3)] == [ADMIT] * 3
    verdict = th.admit(NEW, "o4", T)
    assert isinstance(verdict, Deny)
    assert verdict.limit == "10/s burst 3"
    # A token comes back after 1/rate s; just before it, still none.
    assert isinstance(th.admit(NEW, "o5", T + 0.0999), Deny)
    assert th.admit(NEW, "o6", T + 0.1) is ADMIT


def test_tokens_refill_up_to_the_burst_only() -> None:
    th = throttle()
    for i in range(3):
        th.admit(NEW, f"o{i}", T)
    # A long pause refills to the burst (3), not to 10 x pause.
    results = [th.admit(REPLACE, f"r{i}", T + 60) for i in range(4)]
    assert results[:3] == [ADMIT] * 3 and isinstance(results[3], Deny)


def test_queue_mode_holds_in_order_and_drains_on_time() -> None:
    th = throttle(mode=ThrottleMode.QUEUE, queue_depth=2)
    for i in range(3):
        th.admit(NEW, f"o{i}", T)
    q1 = th.admit(NEW, "q1", T)
    q2 = th.admit(REPLACE, "q2", T)
    assert isinstance(q1, Queue) and isinstance(q2, Queue)
    assert (q1.depth, q2.depth) == (1, 2)
    assert q1.release_at == pytest.approx(T + 0.1) and q2.release_at == pytest.approx(T + 0.2)
    # queue depth bound: the third is refused
    full = th.admit(NEW, "q3", T)
    assert isinstance(full, Deny) and full.limit == "queue_depth 2"
    assert th.next_release(T) == pytest.approx(T + 0.1)
    assert th.drain(T + 0.05) == []
    assert th.drain(T + 0.1) == ["q1"]
    assert th.next_release(T + 0.1) == pytest.approx(T + 0.2)
    assert th.drain(T + 0.2) == ["q2"]
    assert th.next_release(T + 0.2) is None and th.queued == 0


def test_an_order_never_overtakes_a_queued_one() -> None:
    th = throttle(mode=ThrottleMode.QUEUE)
    for i in range(3):
        th.admit(NEW, f"o{i}", T)
    assert isinstance(th.admit(NEW, "first", T), Queue)
    # A token is back, but "first" is still queued (nobody drained): "second" waits too.
    assert isinstance(th.admit(NEW, "second", T + 0.15), Queue)
    assert th.drain(T + 0.2) == ["first", "second"]


def test_cancels_overtake_queued_orders() -> None:
    th = throttle(mode=ThrottleMode.QUEUE)
    for i in range(3):
        th.admit(NEW, f"o{i}", T)
    assert isinstance(th.admit(NEW, "waiting", T), Queue)
    # The order bucket is empty and an order is queued; a cancel goes at once.
    assert th.admit(CANCEL, "c1", T) is ADMIT
    assert th.admit(CANCEL, "c2", T) is ADMIT
    # The cancel bucket (burst 2) is empty too: the cancel waits, but ahead of orders.
    c3 = th.admit(CANCEL, "c3", T)
    assert isinstance(c3, Queue) and c3.release_at == pytest.approx(T + 0.05)
    assert th.drain(T + 0.1) == ["c3", "waiting"]


def test_cancels_are_never_denied_even_in_deny_mode() -> None:
    th = throttle(mode=ThrottleMode.DENY)
    results = [th.admit(CANCEL, f"c{i}", T) for i in range(50)]
    assert results[:2] == [ADMIT, ADMIT]
    assert all(isinstance(r, Queue) for r in results[2:])
    # Released at the cancel rate (20/s), in order.
    assert th.drain(T + 0.1) == ["c2", "c3"]
    assert th.next_release(T + 0.1) == pytest.approx(T + 0.15)


def test_cancels_have_their_own_ceiling() -> None:
    th = throttle()
    for i in range(3):
        th.admit(NEW, f"o{i}", T)
    assert isinstance(th.admit(NEW, "o4", T), Deny)
    # Orders used up their bucket; cancels still have theirs.
    assert th.admit(CANCEL, "c1", T) is ADMIT


def test_remove_takes_queued_orders_out() -> None:
    th = throttle(mode=ThrottleMode.QUEUE)
    for i in range(3):
        th.admit(NEW, f"o{i}", T)
    for name in ("a1", "b1", "a2"):
        th.admit(NEW, name, T)
    assert th.remove(lambda item: item.startswith("a")) == ["a1", "a2"]
    assert th.drain(T + 1) == ["b1"]


def test_retune_keeps_tokens_and_queue() -> None:
    th = throttle(mode=ThrottleMode.QUEUE)
    for i in range(3):
        th.admit(NEW, f"o{i}", T)
    th.admit(NEW, "held", T)
    th.retune(ThrottleSettings(rate=1.0, burst=1, mode=ThrottleMode.QUEUE, queue_depth=0))
    assert th.queued == 1  # a smaller queue_depth drops nothing already held
    assert th.drain(T + 0.5) == []  # the new, slower rate applies
    assert th.drain(T + 1.0) == ["held"]


def test_clock_stepping_back_refills_nothing() -> None:
    th = throttle()
    for i in range(3):
        th.admit(NEW, f"o{i}", T)
    assert isinstance(th.admit(NEW, "x", T - 5), Deny)
    assert isinstance(th.admit(NEW, "y", T), Deny)


@pytest.mark.parametrize("bad", [{"rate": 0}, {"burst": 0}, {"cancel_rate": -1},
                                 {"cancel_burst": 0}, {"queue_depth": -1}])
def test_settings_refuse_bad_values(bad: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        ThrottleSettings(**bad)  # type: ignore[arg-type]
