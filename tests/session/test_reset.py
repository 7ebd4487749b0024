"""Sequence resets and the schedule at the session level (1g, QuickFIX period resets)."""

from __future__ import annotations

from calendar import timegm
from datetime import time

from fixrouter.session import DisconnectReason, EventKind, SessionSchedule, SessionState
from fixrouter.store import MemoryStore

from .conftest import Harness, disconnects, events, fields, kinds, sent

MONDAY_0900 = float(timegm((2024, 6, 3, 9, 0, 0, 0, 0, 0)))
DAILY = SessionSchedule(time(8, 0), time(17, 0))


def scheduled(store_created: float, now: float) -> Harness:
    h = Harness(store=MemoryStore(now=store_created), schedule=DAILY)
    h.now = now
    return h


def test_store_from_an_earlier_period_is_reset_at_connect() -> None:
    h = scheduled(MONDAY_0900 - 86_400, MONDAY_0900)
    h.store.save_outbound(1, b"yesterday")
    h.store.set_next_target_seq(40)
    actions = h.connect()
    assert kinds(actions) == ["event:STORE_RESET", "send:A"]
    (logon,) = sent(actions)
    assert fields(logon)[34] == b"1" and 141 not in fields(logon)  # QuickFIX: no 141=Y
    assert h.store.creation_time == MONDAY_0900
    assert h.store.next_target_seq == 1


def test_store_from_this_period_is_kept() -> None:
    h = scheduled(MONDAY_0900 - 600, MONDAY_0900)
    h.store.save_outbound(1, b"earlier today")
    (logon,) = sent(h.connect())
    assert fields(logon)[34] == b"2"


def test_connect_outside_the_schedule_is_refused() -> None:
    h = scheduled(MONDAY_0900, MONDAY_0900 + 9 * 3600)  # 18:00
    assert not h.session.is_session_time(h.now)
    actions = h.connect()
    assert sent(actions) == []
    assert disconnects(actions)[0].reason is DisconnectReason.OUT_OF_SESSION


def test_end_of_period_logs_out() -> None:
    h = scheduled(MONDAY_0900, MONDAY_0900)
    h.logon()
    end = MONDAY_0900 + 8 * 3600 + 1  # 17:00:01
    h.now = end - 20
    h.feed(h.msg("0"))
    h.send_order()
    assert h.session.next_deadline() == end
    h.now = end
    actions = h.session.on_timer(h.now)
    assert kinds(actions)[:2] == ["event:OUT_OF_SESSION", "send:5"]
    assert h.session.state is SessionState.LOGOUT_SENT
    actions = h.feed(h.msg("5"))
    assert disconnects(actions)[0].reason is DisconnectReason.OUT_OF_SESSION


def test_logon_pending_at_end_of_period_disconnects() -> None:
    h = scheduled(MONDAY_0900, MONDAY_0900 + 8 * 3600 - 5)
    h.connect()
    actions = h.tick(7)
    assert disconnects(actions)[0].reason is DisconnectReason.OUT_OF_SESSION  # not timeout


def test_reset_on_logon_every_time() -> None:
    h = Harness(reset_on_logon=True)
    h.logon()
    h.send_order()
    h.session.connection_lost(h.now)
    h.peer_seq = 1
    actions = h.connect()
    assert events(actions, EventKind.STORE_RESET)
    assert fields(sent(actions)[0])[34] == b"1" and fields(sent(actions)[0])[141] == b"Y"
