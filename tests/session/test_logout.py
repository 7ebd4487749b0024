"""Logout in both directions: cases 13a and 13b (session-tests.md)."""

from __future__ import annotations

import pytest

from fixrouter.session import DisconnectReason, EventKind, NotLoggedOn, SessionState

from .conftest import Harness, delivered, disconnects, events, fields, kinds, sent


def test_13a_logout_waits_for_the_answer_then_closes(h: Harness) -> None:
    h.logon()
    actions = h.session.logout(h.now, "end of day")
    (logout,) = sent(actions)
    assert (fields(logout)[35], fields(logout)[34], fields(logout)[58]) == (
        b"5", b"2", b"end of day",
    )
    assert h.session.state is SessionState.LOGOUT_SENT
    assert h.session.next_deadline() == h.now + 2.0
    with pytest.raises(NotLoggedOn):
        h.send_order()
    # Execution reports still arriving are delivered.
    assert len(delivered(h.feed(h.exec_report()))) == 1
    actions = h.feed(h.msg("5"))
    assert kinds(actions) == ["event:LOGGED_OUT", "disconnect:LOGOUT_COMPLETE"]
    assert h.session.state is SessionState.DISCONNECTED
    assert h.session.next_target_seq == 4


def test_13a_logout_timeout(h: Harness) -> None:
    h.logon()
    h.session.logout(h.now)
    assert disconnects(h.tick(1.9)) == []
    assert disconnects(h.tick(0.1))[0].reason is DisconnectReason.LOGOUT_TIMEOUT


def test_13a_second_logout_call_does_nothing(h: Harness) -> None:
    h.logon()
    h.session.logout(h.now)
    assert h.session.logout(h.now) == []


def test_13b_unsolicited_logout_is_answered_and_disconnects(h: Harness) -> None:
    h.logon()
    actions = h.feed(h.msg("5", (58, "maintenance")))
    assert kinds(actions) == ["send:5", "event:LOGGED_OUT", "disconnect:LOGOUT_RECEIVED"]
    assert fields(sent(actions)[0])[34] == b"2"
    assert "maintenance" in events(actions)[0].detail
    assert h.session.next_target_seq == 3


def test_reset_on_logout_resets_after_the_handshake() -> None:
    h = Harness(reset_on_logout=True)
    h.logon()
    h.session.logout(h.now)
    actions = h.feed(h.msg("5"))
    assert events(actions, EventKind.STORE_RESET)
    assert (h.session.next_sender_seq, h.session.next_target_seq) == (1, 1)


def test_connection_lost_is_idempotent_and_reports_logged_out(h: Harness) -> None:
    h.logon()
    assert kinds(h.session.connection_lost(h.now)) == ["event:LOGGED_OUT"]
    assert h.session.connection_lost(h.now) == []
    assert h.feed(h.exec_report()) == []  # nothing is processed while down
    assert h.tick(100) == []
    assert h.session.logout(h.now) == []


def test_reset_on_disconnect() -> None:
    h = Harness(reset_on_disconnect=True)
    h.logon()
    actions = h.session.connection_lost(h.now)
    assert events(actions, EventKind.STORE_RESET)
    assert (h.session.next_sender_seq, h.session.next_target_seq) == (1, 1)
