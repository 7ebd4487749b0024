"""The router's FIX session against the real QuickFIX simulator, over loopback.

Each test starts `fixrouter sim` and `fixrouter run` as real processes and checks what
QuickFIX recorded (its message and event logs, its admin status and the simulator's event
log) against the router's journal.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fixrouter.sim.process import free_port

from .harness import (
    RouterProcess,
    SimHandle,
    journal_seqs,
    order_events,
    set_journal_next_target,
    wait_until,
    write_config,
    write_feed,
)

pytestmark = pytest.mark.integration

Routers = Callable[..., RouterProcess]


def test_logon_heartbeats_and_clean_logout(workdir: Path, sim: SimHandle, routers: Routers) -> None:
    config = write_config(workdir / "router.toml", sim.port, workdir / "store", heartbeat=1)
    router = routers(config)
    router.wait_log("LOGGED_ON")
    assert sim.status()["logged_on"]

    def heartbeats() -> int:
        return sum(1 for m in sim.messages("FIXROUTER") if m.msg_type == b"0")

    # Silent peers on both sides: the router must heartbeat every HeartBtInt (1 s).
    wait_until(lambda: heartbeats() >= 2, 5, "two heartbeats from the router")
    logon = next(m for m in sim.messages("FIXROUTER") if m.msg_type == b"A")
    assert (logon.get(108), logon.get(98), logon.get(141)) == (b"1", b"0", None)

    assert router.terminate() == 0
    assert "LOGGED_OUT: Logout answered" in router.log()
    wait_until(lambda: not sim.status()["logged_on"], 5, "the simulator to see the logout")
    assert "Received logout request" in sim.quickfix_events()


def test_sequence_numbers_continue_across_a_clean_restart(
    workdir: Path, sim: SimHandle, routers: Routers
) -> None:
    store = workdir / "store"
    config = write_config(workdir / "router.toml", sim.port, store)
    first = [f"R1-{i}" for i in range(50)]
    router = routers(config, feed=write_feed(workdir / "feed1.txt", first))
    router.wait_log("test feed: done")
    wait_until(lambda: all(order_events(sim, first).values()), 10, "50 orders executed")
    assert router.terminate() == 0
    sender, target = journal_seqs(store)
    status = sim.status()
    # Nothing is outstanding either way after a clean logout.
    assert (status["next_target_seq"], status["next_sender_seq"]) == (sender, target)

    second = [f"R2-{i}" for i in range(50)]
    router = routers(config, feed=write_feed(workdir / "feed2.txt", second))
    router.wait_log("test feed: done")
    wait_until(lambda: all(order_events(sim, second).values()), 10, "50 more orders executed")
    assert router.terminate() == 0

    logons = [m for m in sim.messages("FIXROUTER") if m.msg_type == b"A"]
    assert [m.get_int(34) for m in logons] == [1, sender]  # continued, no reset
    assert all(m.get(141) is None for m in logons)
    assert "too low" not in sim.quickfix_events()
    actions = order_events(sim)
    assert all(actions[cl] == ["executed"] for cl in first + second)


def test_router_asks_for_what_ib_sent_while_it_was_down(
    workdir: Path, sim: SimHandle, routers: Routers
) -> None:
    store = workdir / "store"
    config = write_config(workdir / "router.toml", sim.port, store)
    router = routers(config)
    router.wait_log("LOGGED_ON")
    assert router.terminate() == 0
    # IB sends bulletins while the line is down; QuickFIX stores them for a resend.
    for i in range(3):
        assert sim.admin("news", headline=f"bulletin {i}")["ok"]
    # And the router has lost the last two messages it had received (its inbound number
    # is behind): both kinds of gap are recovered by the one ResendRequest.
    _, target = journal_seqs(store)
    set_journal_next_target(store, target - 2)

    router = routers(config)
    router.wait_log("GAP_FILLED")
    resend_requests = [m for m in sim.messages("FIXROUTER") if m.msg_type == b"2"]
    assert [(m.get_int(7), m.get_int(16)) for m in resend_requests] == [(target - 2, 0)]
    news = [m for m in sim.messages("IB") if m.msg_type == b"B"]
    assert len([m for m in news if m.get(43) == b"Y"]) == 3  # replayed as PossDup
    assert router.terminate() == 0
    assert journal_seqs(store)[1] == sim.status()["next_sender_seq"]


def test_router_answers_a_resend_request_from_its_journal(
    workdir: Path, sim: SimHandle, routers: Routers
) -> None:
    store = workdir / "store"
    config = write_config(workdir / "router.toml", sim.port, store)
    ids = [f"RS-{i}" for i in range(20)]
    router = routers(config, feed=write_feed(workdir / "feed.txt", ids))
    router.wait_log("test feed: done")
    wait_until(lambda: all(order_events(sim, ids).values()), 10, "20 orders executed")
    assert router.terminate() == 0
    sender, _ = journal_seqs(store)

    # QuickFIX loses the last 15 messages it received from us (a restored backup, say):
    # at our next Logon it sees 34 too high and asks us to resend them.
    sim.stop()
    sim.set_expected_from_router(sender - 15)
    sim.start()
    router = routers(config)
    router.wait_log("RESEND_COMPLETE")
    wait_until(lambda: sim.status()["next_target_seq"] > sender, 10, "the gap to be filled")
    asks = [m for m in sim.messages("IB") if m.msg_type == b"2"]
    assert [m.get_int(7) for m in asks] == [sender - 15]
    resent = [m for m in sim.messages("FIXROUTER") if m.get(43) == b"Y"]
    resent_orders = [m for m in resent if m.msg_type == b"D"]
    gap_fills = [m for m in resent if m.msg_type == b"4"]
    assert resent_orders, "application messages are resent with PossDupFlag"
    assert all(m.get(122) is not None for m in resent_orders)
    assert all(m.get(123) == b"Y" for m in gap_fills)  # admin runs collapse into GapFills
    # The resent orders were recognised as copies: nothing executed twice.
    actions = order_events(sim)
    assert all(actions[cl].count("executed") == 1 for cl in ids)
    assert {a for cl in ids for a in actions[cl]} <= {"executed", "duplicate_ignored"}
    assert router.terminate() == 0
    assert journal_seqs(store)[0] == sim.status()["next_target_seq"]


def test_reconnects_when_the_simulator_is_killed_and_restarted(
    workdir: Path, sim: SimHandle, routers: Routers
) -> None:
    store = workdir / "store"
    config = write_config(workdir / "router.toml", sim.port, store, heartbeat=1)
    ids = [f"RC-{i}" for i in range(400)]
    router = routers(config, feed=write_feed(workdir / "feed.txt", ids), feed_rate=400)
    router.wait_log("LOGGED_ON")
    wait_until(lambda: len(order_events(sim)) >= 100, 10, "the feed to be flowing")
    sim.kill()  # mid-stream, no Logout: a pulled cable
    router.wait_log("connection to 127.0.0.1", timeout=10)
    sim.start()
    router.wait_log("LOGGED_ON", count=2, timeout=15)
    router.wait_log("test feed: done", timeout=15)
    wait_until(lambda: all(order_events(sim, ids).values()), 15, "every order to arrive")
    actions = order_events(sim)
    assert all(actions[cl].count("executed") == 1 for cl in ids)
    assert "too low" not in sim.quickfix_events()
    assert router.terminate() == 0


def test_two_sessions_run_side_by_side_each_with_its_own_journal(
    workdir: Path, routers: Routers
) -> None:
    """Issue 8's shape: one engine, two CTCI sessions, each keyed by its name."""
    sim = SimHandle(
        workdir / "sim2", free_port(), ["--target-comp-id", "DESK1", "--target-comp-id", "DESK2"]
    ).start()
    try:
        config = workdir / "two.toml"
        config.write_text(
            "".join(
                f"""
[[sessions]]
name = "{name.lower()}"
SenderCompID = "{name}"
TargetCompID = "IB"
SocketConnectHost = "127.0.0.1"
SocketConnectPort = {sim.port}
FileStorePath = "{workdir / name}"
ReconnectInterval = 0.2
"""
                for name in ("DESK1", "DESK2")
            )
            + f'\n[gateway]\nlisten = ["tcp://127.0.0.1:{free_port()}"]\n'
        )
        ids = [f"D2-{i}" for i in range(30)]
        feed = write_feed(workdir / "feed.txt", ids)
        router = routers(config, feed=feed, feed_session="desk2")
        router.wait_log("desk1: LOGGED_ON")
        router.wait_log("desk2: LOGGED_ON")
        router.wait_log("test feed: done")
        wait_until(lambda: all(order_events(sim, ids).values()), 10, "30 orders on desk2")
        sessions = {e["session"] for e in sim.events() if e.get("msg_type") == "D"}
        assert sessions == {"FIX.4.2:IB->DESK2"}
        assert router.terminate() == 0
        assert router.log().count("LOGGED_OUT: Logout answered") == 2
        desk1 = (workdir / "DESK1" / "FIX.4.2-DESK1-IB.journal").stat().st_size
        desk2 = (workdir / "DESK2" / "FIX.4.2-DESK2-IB.journal").stat().st_size
        assert desk2 > desk1 > 0  # the orders are in desk2's journal only
    finally:
        sim.kill()
