"""Heartbeats and TestRequests: cases 4a, 4b and 6 (session-tests.md)."""

from __future__ import annotations

from fixrouter.session import DisconnectReason, EventKind

from .conftest import Harness, disconnects, events, fields, kinds, sent


def test_4a_heartbeat_every_interval_while_we_send_nothing(h: Harness) -> None:
    h.logon()
    assert h.session.next_deadline() == h.now + 30
    assert h.tick(29.9) == []
    (heartbeat,) = sent(h.tick(0.1))
    assert fields(heartbeat)[35] == b"0" and 112 not in fields(heartbeat)
    h.feed(h.msg("0"))  # the counterparty is alive too
    assert h.session.next_deadline() == h.now + 30


def test_4a_sending_anything_postpones_the_heartbeat(h: Harness) -> None:
    h.logon()
    h.now += 20
    h.send_order()
    h.feed(h.msg("0"))
    assert h.tick(10) == []  # 30 s since the Logon, but only 10 since the order
    assert [m.msg_type for m in sent(h.tick(20))] == [b"0"]


def test_4b_test_request_answered_with_its_id(h: Harness) -> None:
    h.logon()
    actions = h.feed(h.msg("1", (112, "ABC-123")))
    (heartbeat,) = sent(actions)
    assert fields(heartbeat)[35] == b"0" and fields(heartbeat)[112] == b"ABC-123"
    assert h.session.next_target_seq == 3


def test_4b_test_request_without_id_is_rejected(h: Harness) -> None:
    h.logon()
    (reject,) = sent(h.feed(h.msg("1")))
    assert (fields(reject)[35], fields(reject)[371], fields(reject)[373]) == (b"3", b"112", b"1")


def test_6_silence_brings_a_test_request_then_a_disconnect(h: Harness) -> None:
    """TestRequest after HeartBtInt * 1.5 of silence, disconnect at HeartBtInt * 2.4."""
    h.logon()
    h.tick(30)  # our heartbeat; the counterparty stays silent
    assert h.session.next_deadline() == h.now + 15
    actions = h.tick(15)
    assert kinds(actions) == ["send:1", "event:TEST_REQUEST_SENT"]
    assert fields(sent(actions)[0])[112] == b"TEST-1"
    assert h.session.next_deadline() == h.now - 45 + 72
    assert disconnects(h.tick(26.9)) == []
    actions = h.tick(0.1)
    assert disconnects(actions)[0].reason is DisconnectReason.HEARTBEAT_TIMEOUT
    assert events(actions, EventKind.LOGGED_OUT)


def test_6_answered_test_request_keeps_the_session_and_reports_rtt(h: Harness) -> None:
    h.logon()
    h.tick(45)
    h.now += 0.25
    actions = h.feed(h.msg("0", (112, "TEST-1")))
    (rtt,) = events(actions, EventKind.HEARTBEAT_RTT)
    assert rtt.detail == "0.250000"
    assert disconnects(h.tick(40)) == []
    assert h.session.logged_on


def test_6_any_message_counts_as_an_answer(h: Harness) -> None:
    h.logon()
    h.tick(45)
    h.feed(h.exec_report())
    actions = h.tick(30)
    assert disconnects(actions) == []
    # A new silence gets a new TestRequest rather than a disconnect.
    actions = h.tick(15)
    assert "event:TEST_REQUEST_SENT" in kinds(actions)


def test_heartbeat_interval_zero_turns_liveness_off() -> None:
    h = Harness(heartbeat_interval=0)
    h.logon()
    assert h.session.next_deadline() is None
    assert h.tick(10_000) == []
