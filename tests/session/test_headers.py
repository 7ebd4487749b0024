"""Header checks in session: cases 2i, 2k, 2o (session-tests.md), and extra header fields."""

from __future__ import annotations

import pytest

from fixrouter.codec import encode_fields
from fixrouter.codec.decoder import split_fields
from fixrouter.session import DisconnectReason, EventKind, SessionState

from .conftest import T0, Harness, delivered, disconnects, events, fields, kinds, sent


def test_2i_wrong_begin_string_mid_session_logs_out_and_disconnects(h: Harness) -> None:
    h.logon()
    frame = encode_fields([(8, "FIX.4.4"), *split_fields(h.exec_report())[1:]])
    actions = h.feed(frame)
    assert kinds(actions) == [
        "event:GARBLED", "send:5", "event:LOGGED_OUT", "disconnect:WRONG_BEGIN_STRING",
    ]
    assert b"BeginString" in fields(sent(actions)[0])[58]
    assert h.session.next_target_seq == 2


@pytest.mark.parametrize(("sender", "target", "ref_tag"), [("XX", "FIXROUTER", b"49"),
                                                          ("IB", "YY", b"56")])
def test_2k_wrong_comp_id_rejects_then_logs_out(
    h: Harness, sender: str, target: str, ref_tag: bytes
) -> None:
    h.logon()
    actions = h.feed(h.exec_report(sender=sender, target=target))
    reject, logout = sent(actions)
    assert (fields(reject)[35], fields(reject)[45], fields(reject)[373]) == (b"3", b"2", b"9")
    assert fields(reject)[371] == ref_tag and fields(reject)[372] == b"8"
    assert fields(logout)[35] == b"5"
    assert delivered(actions) == []
    assert h.session.state is SessionState.LOGOUT_SENT
    actions = h.tick(2.0)  # no answer within logout_timeout
    assert disconnects(actions)[0].reason is DisconnectReason.WRONG_COMP_ID


@pytest.mark.parametrize("offset", [-121.0, 121.0])
def test_2o_sending_time_outside_window_rejects_373_10_then_logs_out(
    h: Harness, offset: float
) -> None:
    h.logon()
    actions = h.feed(h.exec_report(sending_time=h.now + offset))
    reject, logout = sent(actions)
    assert (fields(reject)[373], fields(reject)[371]) == (b"10", b"52")
    assert fields(logout)[35] == b"5"
    actions = h.feed(h.msg("5"))
    assert disconnects(actions)[0].reason is DisconnectReason.BAD_SENDING_TIME


def test_2o_window_is_configurable_and_can_be_off() -> None:
    h = Harness(max_latency=5.0)
    h.logon()
    assert len(delivered(h.feed(h.exec_report(sending_time=h.now - 4.9)))) == 1
    assert sent(h.feed(h.exec_report(sending_time=h.now - 5.1)))
    off = Harness(check_latency=False)
    off.logon()
    assert len(delivered(off.feed(off.exec_report(sending_time=T0 - 86_400)))) == 1


def test_missing_sending_time_is_rejected_and_advances(h: Harness) -> None:
    h.logon()
    frame = encode_fields([(35, "0"), (49, "IB"), (56, "FIXROUTER"), (34, 2)])
    actions = h.feed(frame)
    (reject,) = sent(actions)
    assert (fields(reject)[373], fields(reject)[371]) == (b"1", b"52")
    assert h.session.next_target_seq == 3 and h.session.logged_on
    assert events(actions, EventKind.REJECT_SENT)[0].ref_seq == 2


def test_extra_header_fields_go_out_on_every_message() -> None:
    h = Harness(sender_sub_id="DESK1", target_sub_id="ROUTE")
    actions = h.connect()
    assert (fields(sent(actions)[0])[50], fields(sent(actions)[0])[57]) == (b"DESK1", b"ROUTE")
    h.feed(h.logon_answer())
    (order,) = sent(h.send_order())
    assert fields(order)[50] == b"DESK1"
