"""session: a received Reject (35=3) is journaled at its place among the inbound messages.

The order book's restart (`fixrouter.oms.recovery`) turns a journaled 35=3 naming one of
our order messages into the reject the router made of it live; that needs the Reject in
the journal, in arrival order, under its own MsgSeqNum. Bytes and a fake clock only.
"""

from __future__ import annotations

from pathlib import Path

from fixrouter.codec import decode_frame
from fixrouter.session import EventKind
from fixrouter.store import JournalStore

from .conftest import T0, Harness, events


def test_a_received_reject_is_saved_in_arrival_order(h: Harness) -> None:
    h.logon()
    h.send_order("C1")  # our 2
    h.feed(h.exec_report("C0"))  # their 2
    actions = h.feed(h.msg("3", (45, 2), (371, 100), (373, 5), (58, "bad ExDestination")))
    (event,) = events(actions, EventKind.REJECT_RECEIVED)
    assert event.ref_seq == 2
    h.feed(h.exec_report("C2"))  # their 4
    inbound = [(seq, decode_frame(data).msg_type) for seq, data in h.store.iter_inbound()]
    assert inbound == [(2, b"8"), (3, b"3"), (4, b"8")]
    assert h.session.next_target_seq == 5


def test_a_reject_queued_behind_a_gap_is_saved_at_its_turn(h: Harness) -> None:
    h.logon()
    h.send_order("C1")
    reject = h.msg("3", (45, 2), (373, 5), seq=3)
    h.feed(reject)  # 2 is missing: queued, a ResendRequest goes out
    assert list(h.store.iter_inbound()) == []
    h.feed(h.exec_report("C0", seq=2, poss_dup=True, orig_sending_time=T0))
    inbound = [(seq, decode_frame(data).msg_type) for seq, data in h.store.iter_inbound()]
    assert inbound == [(2, b"8"), (3, b"3")]


def test_the_journal_holds_the_reject_after_the_order_it_refuses(tmp_path: Path) -> None:
    store = JournalStore(tmp_path / "FIX.4.2-FIXR-IB", now=T0)
    try:
        h = Harness(store)
        h.logon()
        h.send_order("C1")
        h.feed(h.msg("3", (45, 2), (373, 5), (58, "no")))
        kinds = [(m.outbound, decode_frame(m.data).msg_type) for m in store.iter_messages()]
        assert kinds[-2:] == [(True, b"D"), (False, b"3")]
    finally:
        store.close()
