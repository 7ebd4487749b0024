"""Logon cases 1a-1g and 15 (session-tests.md), for the initiator."""

from __future__ import annotations

import pytest

from fixrouter.codec import encode_fields
from fixrouter.codec.decoder import split_fields
from fixrouter.session import DisconnectReason, EventKind, NotLoggedOn, SessionError, SessionState
from fixrouter.session.errors import OperatorActionRequired
from fixrouter.store import StoreError

from .conftest import T0, Harness, disconnects, events, fields, kinds, sent


def test_1a_logon_fields_and_accepted_answer(h: Harness) -> None:
    """1a: we send 34=1 98=0 108=N (no 141); a valid answer logs us on; next seq is 2."""
    actions = h.connect()
    (logon,) = sent(actions)
    assert fields(logon) == {
        35: b"A", 34: b"1", 49: b"FIXROUTER", 52: b"20231114-22:13:20.000", 56: b"IB",
        98: b"0", 108: b"30",
    }
    assert h.session.state is SessionState.LOGON_SENT
    actions = h.feed(h.logon_answer())
    assert kinds(actions) == ["event:LOGGED_ON"]
    assert h.session.state is SessionState.ACTIVE
    assert h.session.next_sender_seq == 2
    assert h.session.next_target_seq == 2


def test_1a_prime_logon_answer_seq_too_high_requests_resend(h: Harness) -> None:
    """1a': logged on, then ResendRequest 7=expected 16=0."""
    h.connect()
    actions = h.feed(h.logon_answer(seq=5))
    assert kinds(actions) == ["event:LOGGED_ON", "send:2", "event:GAP_DETECTED"]
    assert h.session.logged_on
    (request,) = sent(actions)
    assert fields(request)[7] == b"1" and fields(request)[16] == b"0"
    assert h.session.state is SessionState.RESENDING
    # The counterparty fills 1..5 (the Logon at 5 included) with one GapFill.
    h.peer_seq = 1
    actions = h.feed(h.msg("4", (123, "Y"), (36, 6), poss_dup=True, orig_sending_time=h.now))
    assert h.session.state is SessionState.ACTIVE
    assert h.session.next_target_seq == 6
    assert events(actions, EventKind.GAP_FILLED)


@pytest.mark.parametrize(
    ("sender", "target"), [("XX", "FIXROUTER"), ("IB", "XX"), ("FIXROUTER", "IB")]
)
def test_1c_wrong_comp_ids_disconnect(h: Harness, sender: str, target: str) -> None:
    """1c: wrong (or unswapped) CompIDs on the Logon answer: disconnect, log why."""
    h.connect()
    actions = h.feed(h.logon_answer(sender=sender, target=target))
    assert sent(actions) == []
    (disconnect,) = disconnects(actions)
    assert disconnect.reason is DisconnectReason.WRONG_COMP_ID
    assert "CompID" in events(actions, EventKind.PROTOCOL_ERROR)[0].detail
    assert not h.session.logged_on
    assert h.session.state is SessionState.DISCONNECTED


def test_1d_wrong_begin_string_disconnects(h: Harness) -> None:
    h.connect()
    # Re-framed, so only the BeginString is wrong (BodyLength and CheckSum are right).
    frame = encode_fields([(8, "FIX.4.4"), *split_fields(h.logon_answer())[1:]])
    actions = h.feed(frame)
    assert disconnects(actions)[0].reason is DisconnectReason.WRONG_BEGIN_STRING
    assert not h.session.logged_on


def test_1d_bad_body_length_disconnects(h: Harness) -> None:
    h.connect()
    frame = h.logon_answer()
    length_at = frame.index(b"\x019=") + 3
    end = frame.index(b"\x01", length_at)
    bad = frame[:length_at] + b"%d" % (int(frame[length_at:end]) + 3) + frame[end:] + b"xyz"
    actions = h.feed(bad)
    assert events(actions, EventKind.GARBLED)
    assert disconnects(actions)[0].reason is DisconnectReason.PROTOCOL_ERROR
    assert not h.session.logged_on


def test_1d_sending_time_far_off_disconnects(h: Harness) -> None:
    h.connect()
    actions = h.feed(h.logon_answer(sending_time=T0 - 600))
    assert disconnects(actions)[0].reason is DisconnectReason.BAD_SENDING_TIME
    assert sent(actions) == []


def test_1e_first_message_not_logon_disconnects(h: Harness) -> None:
    h.connect()
    actions = h.feed(h.exec_report())
    assert kinds(actions) == ["event:PROTOCOL_ERROR", "disconnect:PROTOCOL_ERROR"]
    assert h.session.next_target_seq == 1  # nothing consumed


def test_1f_logon_timeout(h: Harness) -> None:
    """1f: no answer within logon_timeout: disconnect (the transport reconnects)."""
    h.connect()
    assert h.session.next_deadline() == T0 + 10.0
    assert h.tick(9.9) == []
    actions = h.tick(0.1)
    assert disconnects(actions)[0].reason is DisconnectReason.LOGON_TIMEOUT
    assert h.session.next_deadline() is None
    # A retry keeps the numbers: the unanswered Logon used 1, the next one uses 2.
    h.session.connection_lost(h.now)
    (logon,) = sent(h.connect())
    assert fields(logon)[34] == b"2"


def test_1g_reset_on_logon_sends_141_and_resets_both() -> None:
    h = Harness(reset_on_logon=True)
    h.store.save_outbound(1, b"old")
    h.store.set_next_target_seq(7)
    actions = h.connect()
    (logon,) = sent(actions)
    assert fields(logon)[141] == b"Y" and fields(logon)[34] == b"1"
    assert events(actions, EventKind.STORE_RESET)
    assert list(h.store.iter_outbound(1)) == [(1, logon.raw)]
    actions = h.feed(h.logon_answer(seq=1))
    assert h.session.logged_on and h.session.next_target_seq == 2


def test_1g_numbers_kept_across_reconnects_without_reset(h: Harness) -> None:
    h.logon()
    h.send_order()
    h.feed(h.exec_report())
    h.session.logout(h.now)
    h.feed(h.msg("5"))
    h.session.connection_lost(h.now)
    (logon,) = sent(h.connect())
    assert 141 not in fields(logon)
    assert fields(logon)[34] == b"4"  # Logon 1, order 2, Logout 3
    h.feed(h.logon_answer())
    assert h.session.next_target_seq == h.peer_seq


def test_unsolicited_reset_in_logon_answer_is_followed_and_confirmed(h: Harness) -> None:
    """The counterparty answers with 141=Y and 34=1: reset, and confirm with our own 141=Y."""
    h.store.set_next_target_seq(10)
    h.connect()
    h.peer_seq = 1
    actions = h.feed(h.logon_answer(extra_header=[(141, "Y")]))
    (confirm,) = sent(actions)
    assert fields(confirm)[141] == b"Y" and fields(confirm)[34] == b"1"
    assert h.session.logged_on
    assert (h.session.next_sender_seq, h.session.next_target_seq) == (2, 2)


def test_15_logon_answer_seq_too_low_stays_down(h: Harness) -> None:
    """15: the counterparty lost its state and answers 34=1 when we expect 50."""
    h.store.set_next_target_seq(50)
    h.connect()
    actions = h.feed(h.logon_answer(seq=1))
    assert kinds(actions) == ["event:SEQ_TOO_LOW_ON_LOGON", "send:5", "disconnect:SEQ_TOO_LOW"]
    (logout,) = sent(actions)
    assert fields(logout)[58] == b"MsgSeqNum too low, expecting 50 but received 1"
    assert h.session.operator_action_required
    assert h.store.next_target_seq == 50  # never reset silently
    # Reconnecting does not help: connection_made refuses until an operator acts.
    h.session.connection_lost(h.now)
    actions = h.connect()
    assert sent(actions) == []
    assert disconnects(actions)[0].reason is DisconnectReason.OPERATOR_ACTION_REQUIRED
    with pytest.raises(OperatorActionRequired):
        h.send_order()
    h.session.set_next_seqs(next_target_seq=1)
    assert not h.session.operator_action_required
    h.peer_seq = 1
    h.connect()
    h.feed(h.logon_answer())
    assert h.session.logged_on


def test_15_counterparty_logout_seq_too_low_on_logon(h: Harness) -> None:
    """15, the other way: our Logon is refused with "MsgSeqNum too low"."""
    h.connect()
    actions = h.feed(h.msg("5", (58, "MsgSeqNum too low, expecting 9 but received 1")))
    assert kinds(actions) == ["event:SEQ_TOO_LOW_ON_LOGON", "disconnect:SEQ_TOO_LOW"]
    assert h.session.operator_action_required
    h.session.connection_lost(h.now)
    with pytest.raises(StoreError):
        h.session.set_next_seqs(next_sender_seq=0)
    h.session.set_next_seqs(next_sender_seq=9)
    (logon,) = sent(h.connect())
    assert fields(logon)[34] == b"9"


def test_logon_refused_with_logout(h: Harness) -> None:
    h.connect()
    actions = h.feed(h.msg("5", (58, "unknown CompID")))
    assert disconnects(actions)[0].reason is DisconnectReason.LOGON_REJECTED
    assert not h.session.operator_action_required


def test_send_app_before_logon_fails_closed(h: Harness) -> None:
    with pytest.raises(NotLoggedOn):
        h.send_order()
    h.connect()
    with pytest.raises(NotLoggedOn):
        h.send_order()
    assert h.store.next_sender_seq == 2  # only the Logon took a number


def test_connection_made_twice_is_a_local_error(h: Harness) -> None:
    h.connect()
    with pytest.raises(SessionError):
        h.connect()


def test_logout_before_logon_completes_just_disconnects(h: Harness) -> None:
    h.connect()
    actions = h.session.logout(h.now)
    assert sent(actions) == []
    assert disconnects(actions)[0].reason is DisconnectReason.LOGOUT_COMPLETE
