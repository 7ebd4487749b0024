"""Rejects in both directions: cases 2q, 2r and 7 (session-tests.md), and dictionary checks."""

from __future__ import annotations

import pytest

from fixrouter.codec import decode_frame
from fixrouter.dictionary import CompiledValidator, load_dictionary
from fixrouter.session import EventKind, Session, SessionState

from .conftest import Harness, delivered, events, fields, kinds, sent


def test_2q_invalid_msg_type_is_rejected_with_373_11(h: Harness) -> None:
    h.logon()
    actions = h.feed(h.msg("ZZ", (58, "hello")))
    (reject,) = sent(actions)
    assert fields(reject)[35] == b"3"
    assert (fields(reject)[45], fields(reject)[373], fields(reject)[371]) == (b"2", b"11", b"35")
    assert fields(reject)[372] == b"ZZ"
    assert h.session.next_target_seq == 3  # consumed
    assert delivered(actions) == []


@pytest.mark.parametrize("msg_type", ["D", "R", "UX"])
def test_2r_unsupported_application_message_gets_business_reject_380_3(
    h: Harness, msg_type: str
) -> None:
    h.logon()
    actions = h.feed(h.msg(msg_type, (11, "X")))
    (bmr,) = sent(actions)
    assert fields(bmr)[35] == b"j"
    assert (fields(bmr)[45], fields(bmr)[372], fields(bmr)[380]) == (
        b"2", msg_type.encode(), b"3",
    )
    assert events(actions, EventKind.BUSINESS_REJECT_SENT)
    assert h.session.next_target_seq == 3


def test_7_reject_received_is_counted_surfaced_and_advances(h: Harness) -> None:
    h.logon()
    h.send_order()  # our 2
    actions = h.feed(h.msg("3", (45, 2), (371, 100), (373, 5), (58, "bad ExDestination")))
    (event,) = events(actions, EventKind.REJECT_RECEIVED)
    assert event.ref_seq == 2
    assert event.message is not None and event.message.get(58) == b"bad ExDestination"
    assert "373=5" in event.detail
    assert h.session.rejects_received == 1
    assert h.session.next_target_seq == 3
    assert sent(actions) == [] and delivered(actions) == []


def test_business_reject_received_is_an_event_and_delivered(h: Harness) -> None:
    h.logon()
    actions = h.feed(h.msg("j", (45, 2), (372, "D"), (380, 3), (58, "no")))
    assert kinds(actions) == ["deliver:j", "event:BUSINESS_REJECT_RECEIVED"]
    assert events(actions)[0].ref_seq == 2
    assert [seq for seq, _ in h.store.iter_inbound()] == [2]


def test_dictionary_problem_is_rejected_with_its_reason_and_not_delivered() -> None:
    h = Harness()
    h.session = Session(h.config, h.store, validator=CompiledValidator(load_dictionary()))
    h.logon()
    actions = h.feed(h.msg("8", (37, "O1"), (17, "E1")))  # required fields missing
    (reject,) = sent(actions)
    assert fields(reject)[35] == b"3" and fields(reject)[373] == b"1"
    assert 371 in fields(reject)
    assert delivered(actions) == []
    assert h.session.next_target_seq == 3
    actions = h.feed(h.exec_report("C3"))
    assert len(delivered(actions)) == 1
    assert h.session.state is SessionState.ACTIVE


_REPORT = [(37, "O1"), (11, "C1"), (17, "E1"), (20, "0"), (150, "0"), (39, "0"), (55, "AAPL"),
           (54, "1"), (38, "100"), (32, "0"), (31, "0"), (151, "100"), (14, "0"), (6, "0")]


def _with(tag: int, value: str | None) -> list[tuple[int, str]]:
    body = [(t, value if t == tag else v) for t, v in _REPORT if t != tag or value is not None]
    return body if any(t == tag for t, _ in _REPORT) else [*body, (tag, value or "")]


@pytest.mark.parametrize("body", [
    _with(150, "Z"), _with(14, "ten"), _with(17, None), _with(39, None),
    _with(31, "1e3"), _with(54, "0"), _with(60, "20231114-24:00:00"), _with(110, "5"),
    [*_REPORT, (17, "E2")], [*_REPORT, (382, "1"), (375, "X")],
])  # fmt: skip
def test_dictionary_rejects_through_the_session_match_the_reference_check(
    body: list[tuple[int, str]],
) -> None:
    """The session's precompiled check rejects what `check_inbound` on the field list
    rejects, with the same RefTagID, reason and text."""
    validator = CompiledValidator(load_dictionary())
    h = Harness()
    h.session = Session(h.config, h.store, validator=validator)
    h.logon()
    frame = h.msg("8", *body)
    reference = validator.check_inbound(b"8", decode_frame(frame).fields)
    actions = h.feed(frame)
    if reference is None:
        assert len(delivered(actions)) == 1
        return
    (reject,) = sent(actions)
    got = fields(reject)
    assert got[371] == str(reference.ref_tag).encode()
    assert got.get(373) == (str(int(reference.reason)).encode() if reference.reason.in_fix42
                            else None)
    assert got[58] == reference.text.encode()
    assert delivered(actions) == []
    assert h.session.next_target_seq == 3


def test_invalid_tag_number_through_the_session_is_rejected_373_0() -> None:
    h = Harness()
    h.session = Session(h.config, h.store, validator=CompiledValidator(load_dictionary()))
    h.logon()
    frame = h.msg("8", *_REPORT)
    body = frame[: frame.rindex(b"10=")] + b"6x=1\x01"
    body = body.replace(b"9=%d" % (len(frame) - frame.index(b"35=") - 7),
                        b"9=%d" % (len(body) - frame.index(b"35=")), 1)
    frame = body + b"10=%03d\x01" % (sum(body) & 0xFF)
    actions = h.feed(frame)
    (reject,) = sent(actions)
    assert fields(reject)[373] == b"0"
    assert delivered(actions) == []
