"""Rejects in both directions: cases 2q, 2r and 7 (session-tests.md), and dictionary checks."""

from __future__ import annotations

import pytest

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
