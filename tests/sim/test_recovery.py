"""Line drops, simulator restarts (clean and kill -9) and several sessions in one process."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import SimFactory
from .peer import Peer

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CERTIFICATION = (REPO / "fix" / "scenarios" / "certification.toml").read_text()


def test_admin_drop_then_reconnect_continues_sequence_numbers(sim_factory: SimFactory) -> None:
    sim = sim_factory(CERTIFICATION)
    peer = sim.peer()
    peer.logon(reset=True)
    peer.new_order("D1", "SLOW", qty="10", price="100")
    peer.expect("8", t11="D1", t150="0")
    sent_before = peer.next_out
    reply = sim.admin("drop")
    assert reply == {"ok": True, "sessions": ["FIX.4.2:IB->FIXROUTER"]}
    peer.wait_closed()
    assert not any(m.type == "5" for m in peer.admin_seen), "a drop sends no Logout"
    sim.wait_event(action="drop")
    # Both partial fills happen while the line is down.
    sim.wait_event(dir="out", cl_ord_id="D1", ord_status="2")
    peer.close()
    logon = peer.logon(reset=False)
    assert logon.get(141) is None
    # The fills were stored under their sequence numbers and come back on our ResendRequest.
    fills = [peer.expect("8", t11="D1") for _ in range(2)]
    assert [(f[39], f[32], f.get(43)) for f in fills] == [("1", "5", "Y"), ("2", "5", "Y")]
    assert int(fills[0][34]) < int(fills[1][34]) < int(logon[34])
    inbound = [e for e in sim.events() if e["dir"] == "event" and e["action"] == "logon"]
    assert len(inbound) == 2
    # Our own numbering carried on as well: the simulator accepted it without a reset.
    assert peer.next_out > sent_before


def test_drop_trick_from_scenario(sim_factory: SimFactory) -> None:
    sim = sim_factory(CERTIFICATION)
    peer = sim.peer()
    peer.logon(reset=True)
    peer.new_order("X1", "DROP", price="100")
    peer.expect("8", t11="X1", t150="0")
    peer.expect("8", t11="X1", t150="2")
    peer.wait_closed(timeout=3)
    assert sim.wait_event(action="drop")["cause"] == "timer"
    # Reconnect only once QuickFIX has logged the session out: a Logon that arrives while
    # it still holds the dropped connection's session went unanswered (about 1 run in 10
    # on a loaded machine, the reconnecting peer timing out after 5 s).
    sim.wait_event(action="logout")
    peer.close()
    peer.logon(reset=False)
    peer.new_order("X2", "AAPL", price="190")
    peer.expect("8", t11="X2", t150="2")


def test_restart_keeps_dedupe_sequence_numbers_and_unique_ids(sim_factory: SimFactory) -> None:
    sim = sim_factory(CERTIFICATION)
    peer = sim.peer()
    peer.logon(reset=True)
    peer.new_order("R1", "IBM", price="150")
    first_ack = peer.expect("8", t11="R1")
    peer.logout()
    last_sim_seq = peer.next_in - 1
    assert sim.stop() == 0

    again = sim_factory(CERTIFICATION)  # same data dir
    peer2 = again.peer()
    peer2.next_out, peer2.next_in = peer.next_out, peer.next_in
    logon = peer2.logon(reset=False)
    assert int(logon[34]) == last_sim_seq + 1
    # A router that restarted and resends its order must not get it executed again.
    peer2.new_order("R1", "IBM", price="150", poss_resend=True)
    peer2.expect_nothing(0.3)
    (dup,) = [e for e in again.events() if e["dir"] == "in" and e["cl_ord_id"] == "R1"][-1:]
    assert dup["action"] == "duplicate_ignored"
    # IDs from the new run never collide with the old run's.
    peer2.new_order("R2", "IBM", price="150")
    second_ack = peer2.expect("8", t11="R2")
    assert second_ack[37] != first_ack[37] and second_ack[17] != first_ack[17]


def test_kill_9_keeps_dedupe(sim_factory: SimFactory) -> None:
    sim = sim_factory(CERTIFICATION)
    peer = sim.peer()
    peer.logon(reset=True)
    peer.new_order("K1", "AAPL", price="190")
    peer.expect("8", t11="K1", t150="2")
    sim.kill()  # SIGKILL: no clean shutdown at all
    again = sim_factory(CERTIFICATION)
    peer2 = again.peer()
    peer2.logon(reset=True)
    peer2.new_order("K1", "AAPL", price="190", poss_dup=True)
    peer2.expect_nothing(0.3)
    again.wait_event(dir="in", cl_ord_id="K1", action="duplicate_ignored")
    actions = [e["action"] for e in again.events() if e["dir"] == "in" and e["cl_ord_id"] == "K1"]
    assert actions == ["executed", "duplicate_ignored"]  # the log spans both runs


def test_several_sessions_in_one_process(sim_factory: SimFactory) -> None:
    sim = sim_factory(
        CERTIFICATION, extra=["--target-comp-id", "DESK1", "--target-comp-id", "DESK2"]
    )
    one, two = sim.peer(sender="DESK1"), sim.peer(sender="DESK2")
    one.logon(reset=True)
    two.logon(reset=True)
    # The same ClOrdID in two sessions is two orders: each session has its own book.
    one.new_order("S1", "IBM", price="150")
    two.new_order("S1", "IBM", price="150")
    a, b = one.expect("8", t11="S1"), two.expect("8", t11="S1")
    assert a[39] == b[39] == "0" and a[37] != b[37]
    assert (a[56], b[56]) == ("DESK1", "DESK2")
    reply = sim.admin("news", session="DESK2", headline="desk 2 only")
    assert reply["sessions"] == ["FIX.4.2:IB->DESK2"]
    assert two.expect("B")[148] == "desk 2 only"
    one.expect_nothing(0.2)
    # An order command finds the session holding the order; ambiguous refs need `session`.
    assert "several sessions" in sim.admin("unsolicited_cancel", cl_ord_id="S1")["error"]
    assert sim.admin("unsolicited_cancel", cl_ord_id="S1", session="DESK1")["ok"]
    assert one.expect("8", t37=a[37])[39] == "4"
    two.expect_nothing(0.2)
    status = sim.admin("status")
    assert [s["session"] for s in status["sessions"]] == [
        "FIX.4.2:IB->DESK1", "FIX.4.2:IB->DESK2",
    ]  # fmt: skip
    assert all(s["logged_on"] for s in status["sessions"])
    # An unknown CompID is not a session here.
    stranger = Peer(sim.port, sender="NOBODY")
    stranger.connect()
    stranger.send("A", [(98, "0"), (108, "30")])
    stranger.wait_closed()
