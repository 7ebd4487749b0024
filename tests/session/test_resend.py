"""Answering ResendRequest from the store: cases 8 and 8' (session-tests.md)."""

from __future__ import annotations

from collections.abc import Iterator

from fixrouter.codec import FixMessage, format_utc_ms
from fixrouter.session import EventKind, SessionState
from fixrouter.store import MemoryStore

from .conftest import T0, Harness, events, fields, kinds, sent


def build_history(h: Harness) -> None:
    """Our numbers: 1 Logon, 2 D, 3 D, 4 Heartbeat, 5 D, 6 TestRequest-answer Heartbeat."""
    h.logon()
    h.send_order("C2")
    h.send_order("C3")
    h.now += 30
    assert kinds(h.session.on_timer(h.now)) == ["send:0"]
    h.feed(h.msg("0"))
    h.send_order("C5")
    h.feed(h.msg("1", (112, "T")))
    assert h.session.next_sender_seq == 7


def summary(messages: list[FixMessage]) -> list[tuple[bytes, ...]]:
    """(35, 34, 36 or 11) per message."""
    return [
        (m.msg_type, m[34], m.get(36) or m.get(11) or b"") for m in messages
    ]


def resend_request(h: Harness, begin: int, end: int) -> bytes:
    return h.msg("2", (7, begin), (16, end))


def test_8_mixed_range_to_the_end(h: Harness) -> None:
    build_history(h)
    h.now += 1
    actions = h.feed(resend_request(h, 1, 0))
    out = sent(actions)
    assert summary(out) == [
        (b"4", b"1", b"2"),  # the Logon, gap-filled
        (b"D", b"2", b"C2"),
        (b"D", b"3", b"C3"),
        (b"4", b"4", b"5"),  # the Heartbeat
        (b"D", b"5", b"C5"),
        (b"4", b"6", b"7"),  # trailing admin run; 16=0 means up to our last (6)
    ]
    gap = fields(out[0])
    assert (gap[43], gap[123]) == (b"Y", b"Y") and 122 in gap
    order = fields(out[1])
    assert order[43] == b"Y"
    assert order[122] == format_utc_ms(T0)  # the original 52 moved to 122
    assert order[52] == format_utc_ms(h.now)  # a fresh 52
    assert order[55] == b"AAPL" and order[100] == b"SMART"
    assert h.session.next_sender_seq == 7  # resending takes no new numbers
    assert [e.kind for e in events(actions)] == [
        EventKind.RESEND_REQUESTED, EventKind.RESEND_COMPLETE,
    ]


def test_8_admin_only_range_is_one_gap_fill(h: Harness) -> None:
    build_history(h)
    assert summary(sent(h.feed(resend_request(h, 4, 4)))) == [(b"4", b"4", b"5")]
    assert summary(sent(h.feed(resend_request(h, 1, 1)))) == [(b"4", b"1", b"2")]


def test_8_application_only_range(h: Harness) -> None:
    build_history(h)
    out = sent(h.feed(resend_request(h, 2, 3)))
    assert summary(out) == [(b"D", b"2", b"C2"), (b"D", b"3", b"C3")]
    assert all(fields(m)[43] == b"Y" for m in out)


def test_8_end_999999_means_to_the_end(h: Harness) -> None:
    build_history(h)
    out = sent(h.feed(resend_request(h, 5, 999999)))
    assert summary(out) == [(b"D", b"5", b"C5"), (b"4", b"6", b"7")]


def test_8_numbers_missing_from_the_store_are_gap_filled(h: Harness) -> None:
    h.logon()
    h.send_order("C2")
    h.session.connection_lost(h.now)
    h.session.set_next_seqs(next_sender_seq=10)  # an operator skipped 3..9
    h.connect()
    h.feed(h.logon_answer())
    h.send_order("C11")
    out = sent(h.feed(resend_request(h, 2, 0)))
    assert summary(out) == [(b"D", b"2", b"C2"), (b"4", b"3", b"11"), (b"D", b"11", b"C11")]


def test_8_range_beyond_what_we_sent_sends_nothing(h: Harness) -> None:
    h.logon()
    actions = h.feed(resend_request(h, 5, 0))
    assert sent(actions) == []
    assert events(actions, EventKind.RESEND_REQUESTED)


def test_8_invalid_resend_request_is_rejected(h: Harness) -> None:
    h.logon()
    (reject,) = sent(h.feed(h.msg("2", (7, 0), (16, 0))))
    assert (fields(reject)[35], fields(reject)[373], fields(reject)[371]) == (b"3", b"5", b"7")
    (reject,) = sent(h.feed(h.msg("2", (7, 1))))
    assert fields(reject)[371] == b"16"


def test_8_resend_request_ahead_of_a_gap_is_served_at_once(h: Harness) -> None:
    h.logon()
    h.send_order("C2")
    h.peer_seq = 3
    actions = h.feed(resend_request(h, 2, 0))
    assert summary(sent(actions))[0] == (b"D", b"2", b"C2")
    assert kinds(actions)[-2:] == ["send:2", "event:GAP_DETECTED"]


def test_8_prime_orders_older_than_max_resend_age_are_gap_filled_and_reported() -> None:
    h = Harness(max_resend_age=60.0)
    h.logon()
    h.send_order("OLD")  # 2, at T0
    h.now += 100
    h.feed(h.msg("0"))
    h.send_order("NEW")  # 3, at T0 + 100
    actions = h.feed(resend_request(h, 2, 0))
    assert summary(sent(actions)) == [(b"4", b"2", b"3"), (b"D", b"3", b"NEW")]
    (lost,) = events(actions, EventKind.NOT_DELIVERED)
    assert lost.ref_seq == 2
    assert lost.message is not None and lost.message.get(11) == b"OLD"


class CountingStore(MemoryStore):
    """Counts stored messages handed to the resend path."""

    pulled = 0

    def iter_outbound(self, begin: int, end: int = 0) -> Iterator[tuple[int, bytes]]:
        for item in super().iter_outbound(begin, end):
            self.pulled += 1
            yield item


def test_8_large_range_is_streamed_chunk_by_chunk() -> None:
    store = CountingStore(now=T0)
    h = Harness(store=store, resend_chunk=10)
    h.logon()
    for n in range(2, 102):
        h.send_order(f"C{n}")
    actions = h.feed(resend_request(h, 1, 0))
    assert store.pulled == 10  # one chunk, not the range
    out = sent(actions)
    assert summary(out)[0] == (b"4", b"1", b"2") and len(out) == 10
    assert h.session.resend_pending
    assert h.session.next_deadline() == h.now  # call on_timer right away
    # An order sent meanwhile is journaled but held until the resend is complete.
    held = h.send_order("LIVE")
    assert held == []
    assert h.session.next_sender_seq == 103
    while h.session.resend_pending:
        before = store.pulled
        out += sent(h.tick())
        assert store.pulled - before <= 10
    seqs = [int(m[34]) for m in out]
    assert seqs == list(range(1, 103))  # 1 as GapFill, 2..101 resent, then 102 (LIVE)
    assert out[-1].get(11) == b"LIVE" and 43 not in out[-1]


def test_8_second_request_during_a_stream_is_queued() -> None:
    h = Harness(resend_chunk=2)
    h.logon()
    for n in range(2, 7):
        h.send_order(f"C{n}")
    out = sent(h.feed(resend_request(h, 2, 6)))
    out += sent(h.feed(resend_request(h, 5, 5)))
    while h.session.resend_pending:
        out += sent(h.tick())
    assert [int(m[34]) for m in out] == [2, 3, 4, 5, 6, 5]


def test_8_logout_abandons_a_stream_and_flushes_held_messages() -> None:
    h = Harness(resend_chunk=2)
    h.logon()
    for n in range(2, 8):
        h.send_order(f"C{n}")
    h.feed(resend_request(h, 2, 0))
    assert h.send_order("LIVE") == []
    actions = h.session.logout(h.now)
    assert [m.msg_type for m in sent(actions)] == [b"D", b"5"]
    assert sent(actions)[0].get(11) == b"LIVE"
    assert h.session.state is SessionState.LOGOUT_SENT
