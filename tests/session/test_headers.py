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


# SendingTime is parsed from a cached minute (codec.timestamps): a value in the minute just
# seen (the Logon answer's, T0) must still be rejected exactly as a full parse rejects it.
_REPORT_BODY = [(37, "O1"), (11, "C1"), (17, "E1"), (20, "0"), (150, "0"), (39, "0"),
                (55, "AAPL"), (54, "1"), (38, 100), (32, 0), (31, "0"), (151, 100), (14, 0),
                (6, "0")]  # fmt: skip


@pytest.mark.parametrize("sending_time", [
    "20231114-22:13:2x.000", "20231114-22:13:61.000", "20231114-22:13:20.00",
    "20231114-22:13:20.000Z", "20231114-22:13:20.0000", "20231114-22:13:20.",
    "20231114-22:13", "20231114-22:13:2:.000",
])  # fmt: skip
def test_garbled_sending_time_in_the_minute_just_seen_is_rejected_373_6(
    h: Harness, sending_time: str
) -> None:
    h.logon()  # the Logon answer's SendingTime is 20231114-22:13:20.000
    frame = encode_fields([(35, "8"), (49, "IB"), (56, "FIXROUTER"), (34, 2),
                           (52, sending_time), *_REPORT_BODY])  # fmt: skip
    actions = h.feed(frame)
    (reject,) = sent(actions)
    assert (fields(reject)[373], fields(reject)[371]) == (b"6", b"52")
    assert delivered(actions) == []
    assert h.session.next_target_seq == 3 and h.session.logged_on


@pytest.mark.parametrize("offset", [-10.0, 30.0])
def test_stale_sending_time_in_the_minute_just_seen_rejects_373_10(offset: float) -> None:
    h = Harness(max_latency=5.0)
    h.logon()  # 22:13:20; 22:13:10 and 22:13:50 are in the same, cached, minute
    actions = h.feed(h.exec_report(sending_time=h.now + offset))
    reject, logout = sent(actions)
    assert (fields(reject)[373], fields(reject)[371]) == (b"10", b"52")
    assert fields(logout)[35] == b"5"
    assert delivered(actions) == []
