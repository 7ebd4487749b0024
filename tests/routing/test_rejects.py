"""routing/rejects: what a 35=3 or 35=j says it refused, and why, as real frames."""

from __future__ import annotations

from fixrouter.codec import FixMessage, decode_frame, encode_fields
from fixrouter.codec.encoder import Field
from fixrouter.routing.rejects import (
    business_reject_reason,
    refusal_of,
    session_reject_reason,
)


def frame(msg_type: str, *fields: Field) -> FixMessage:
    return decode_frame(encode_fields([(35, msg_type), (49, "IB"), (56, "FIXR"), (34, 7),
                                       (52, "20231114-22:13:20.000"), *fields]))


def test_a_session_reject_names_its_refseqnum_and_text() -> None:
    reject = frame("3", (45, 12), (371, 100), (373, 5), (58, "bad ExDestination"))
    assert refusal_of(reject) == (12, "session reject: bad ExDestination")
    assert session_reject_reason(frame("3", (45, 12), (373, 1))) == (
        "session reject: SessionRejectReason 1")


def test_a_business_reject_names_its_refseqnum_and_text() -> None:
    bmr = frame("j", (45, 3), (372, "F"), (380, 3), (58, "Unsupported"))
    assert refusal_of(bmr) == (3, "business reject: Unsupported")
    assert business_reject_reason(frame("j", (45, 3), (380, 4))) == (
        "business reject: BusinessRejectReason 4")
    assert business_reject_reason(frame("j", (45, 3))) == "business reject: BusinessRejectReason ?"


def test_what_names_no_message_of_ours_is_not_a_refusal() -> None:
    assert refusal_of(frame("j", (372, "D"), (380, 3))) is None  # RefMsgType only
    assert refusal_of(frame("j", (45, "x1"), (372, "D"))) is None
    assert refusal_of(frame("3", (373, 1))) is None
    assert refusal_of(frame("3", (45, "x1"))) is None
    assert refusal_of(frame("8", (45, 2))) is None  # not a refusal at all
