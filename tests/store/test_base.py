"""The MessageStore contract, checked on MemoryStore and JournalStore (both modes)."""

from __future__ import annotations

import pytest

from fixrouter.errors import FixRouterError, LocalProtocolError
from fixrouter.store import MessageStore, SequenceError, StoreError

from .conftest import T0, fix_message


def test_satisfies_protocol(store: MessageStore) -> None:
    assert isinstance(store, MessageStore)


def test_fresh_store(store: MessageStore) -> None:
    assert store.next_sender_seq == 1
    assert store.next_target_seq == 1
    assert store.creation_time == T0
    assert list(store.iter_outbound(1)) == []
    assert list(store.iter_inbound()) == []


def test_save_outbound_advances_sender(store: MessageStore) -> None:
    for seq in range(1, 6):
        store.save_outbound(seq, fix_message(seq))
    assert store.next_sender_seq == 6
    assert list(store.iter_outbound(1, 0)) == [(s, fix_message(s)) for s in range(1, 6)]


@pytest.mark.parametrize("bad", [0, 1, 3, 5, -1])
def test_save_outbound_rejects_wrong_seq(store: MessageStore, bad: int) -> None:
    store.save_outbound(1, fix_message(1))
    with pytest.raises(SequenceError, match=r"outbound MsgSeqNum .* expected 2"):
        store.save_outbound(bad, fix_message(bad))
    assert store.next_sender_seq == 2
    assert [s for s, _ in store.iter_outbound(1)] == [1]


def test_sequence_error_is_local_protocol_error(store: MessageStore) -> None:
    with pytest.raises(LocalProtocolError):
        store.save_outbound(7, b"x")
    with pytest.raises(FixRouterError):
        store.save_inbound(7, b"x")


def test_save_inbound_advances_target(store: MessageStore) -> None:
    store.save_inbound(1, b"exec1")
    store.incr_next_target_seq()  # a heartbeat, not saved
    store.save_inbound(3, b"exec3")
    assert store.next_target_seq == 4
    assert list(store.iter_inbound()) == [(1, b"exec1"), (3, b"exec3")]
    with pytest.raises(SequenceError, match="inbound MsgSeqNum 3 saved, expected 4"):
        store.save_inbound(3, b"again")


def test_inbound_and_outbound_are_independent(store: MessageStore) -> None:
    store.save_outbound(1, b"out1")
    store.save_inbound(1, b"in1")
    store.save_outbound(2, b"out2")
    assert list(store.iter_outbound(1)) == [(1, b"out1"), (2, b"out2")]
    assert list(store.iter_inbound()) == [(1, b"in1")]


def test_range_bounds(store: MessageStore) -> None:
    for seq in range(1, 11):
        store.save_outbound(seq, fix_message(seq))
    assert [s for s, _ in store.iter_outbound(3, 5)] == [3, 4, 5]
    assert [s for s, _ in store.iter_outbound(8, 0)] == [8, 9, 10]
    assert [s for s, _ in store.iter_outbound(8, 999)] == [8, 9, 10]
    assert [s for s, _ in store.iter_outbound(10, 10)] == [10]
    assert list(store.iter_outbound(11, 0)) == []
    assert list(store.iter_outbound(5, 4)) == []


def test_unsaved_seqs_are_absent(store: MessageStore) -> None:
    """Admin messages the session chose not to save leave holes it will gap-fill."""
    store.save_outbound(1, b"logon")
    store.set_next_sender_seq(4)  # 2 and 3 were heartbeats, not saved
    store.save_outbound(4, b"order")
    assert store.next_sender_seq == 5
    assert list(store.iter_outbound(1, 0)) == [(1, b"logon"), (4, b"order")]
    assert list(store.iter_outbound(2, 3)) == []


def test_set_sender_backwards_forgets_superseded(store: MessageStore) -> None:
    for seq in range(1, 6):
        store.save_outbound(seq, b"old%d" % seq)
    store.set_next_sender_seq(3)
    assert store.next_sender_seq == 3
    assert [s for s, _ in store.iter_outbound(1)] == [1, 2]
    store.save_outbound(3, b"new3")
    assert list(store.iter_outbound(3)) == [(3, b"new3")]


def test_set_target(store: MessageStore) -> None:
    store.set_next_target_seq(100)
    assert store.next_target_seq == 100
    store.save_inbound(100, b"x")
    assert store.next_target_seq == 101


@pytest.mark.parametrize("bad", [0, -5])
def test_set_rejects_nonpositive(store: MessageStore, bad: int) -> None:
    with pytest.raises(StoreError):
        store.set_next_sender_seq(bad)
    with pytest.raises(StoreError):
        store.set_next_target_seq(bad)
    assert (store.next_sender_seq, store.next_target_seq) == (1, 1)


def test_reset(store: MessageStore) -> None:
    store.save_outbound(1, b"a")
    store.save_inbound(1, b"b")
    store.reset(T0 + 86_400)
    assert (store.next_sender_seq, store.next_target_seq) == (1, 1)
    assert store.creation_time == T0 + 86_400
    assert list(store.iter_outbound(1)) == []
    assert list(store.iter_inbound()) == []
    store.save_outbound(1, b"fresh")
    assert list(store.iter_outbound(1)) == [(1, b"fresh")]


def test_resend_interrupted_by_reset(store: MessageStore) -> None:
    for seq in range(1, 4):
        store.save_outbound(seq, b"m")
    it = store.iter_outbound(1)
    assert next(it)[0] == 1
    store.reset(T0 + 1)
    with pytest.raises(StoreError, match="reset"):
        next(it)


def test_tickets_are_monotonic_and_synced(store: MessageStore) -> None:
    t0 = store.written_upto()
    store.save_outbound(1, b"a")
    t1 = store.written_upto()
    store.incr_next_target_seq()
    t2 = store.written_upto()
    assert t0 < t1 < t2
    assert store.sync() == t2
    assert store.synced_upto() >= t2
    assert store.commit() == t2
    store.reset(T0 + 1)
    assert store.written_upto() > t2


def test_closed_store_refuses_writes(store: MessageStore) -> None:
    store.close()
    store.close()  # idempotent
    with pytest.raises(StoreError):
        store.save_outbound(1, b"x")
    assert store.next_sender_seq == 1
