"""The session layer's vocabulary: admin MsgTypes, FIX 4.2's MsgType table, admin bodies.

Bodies are rendered `tag=value|` bytes in FIX 4.2's field order, ready for
`Encoder.encode`. Admin messages are rare next to orders, so they are built with plain
`%` formats; free text goes through `render_value`, which refuses SOH and non-ASCII.
"""

from __future__ import annotations

import enum
from typing import Final

from fixrouter.codec import render_value

HEARTBEAT: Final = b"0"
TEST_REQUEST: Final = b"1"
RESEND_REQUEST: Final = b"2"
REJECT: Final = b"3"
SEQUENCE_RESET: Final = b"4"
LOGOUT: Final = b"5"
LOGON: Final = b"A"
BUSINESS_MESSAGE_REJECT: Final = b"j"

ADMIN_MSG_TYPES: frozenset[bytes] = frozenset(
    {HEARTBEAT, TEST_REQUEST, RESEND_REQUEST, REJECT, SEQUENCE_RESET, LOGOUT, LOGON}
)

# Every MsgType FIX 4.2 defines (spec volume 1, "MsgType" field). A type outside this set
# is invalid (Reject 373=11); a valid application type we do not handle gets a
# BusinessMessageReject 380=3 instead (cases 2q / 2r). User-defined types (`U...`) are
# valid but unsupported.
FIX42_MSG_TYPES: frozenset[bytes] = frozenset(
    bytes([c]) for c in b"0123456789ABCDEFGHJKLMNPQRSTVWXYZabcdefghijklm"
)

# Tags the session layer reads.
BEGIN_SEQ_NO: Final = 7
END_SEQ_NO: Final = 16
NEW_SEQ_NO: Final = 36
REF_SEQ_NUM: Final = 45
TEXT: Final = 58
ENCRYPT_METHOD: Final = 98
HEART_BT_INT: Final = 108
TEST_REQ_ID: Final = 112
GAP_FILL_FLAG: Final = 123
RESET_SEQ_NUM_FLAG: Final = 141
REF_TAG_ID: Final = 371
REF_MSG_TYPE: Final = 372
SESSION_REJECT_REASON: Final = 373
BUSINESS_REJECT_REASON: Final = 380


class RejectReason(enum.IntEnum):
    """SessionRejectReason (373) values the session sends (FIX 4.2)."""

    INVALID_TAG_NUMBER = 0
    REQUIRED_TAG_MISSING = 1
    TAG_NOT_DEFINED = 2
    UNDEFINED_TAG = 3
    TAG_WITHOUT_VALUE = 4
    VALUE_INCORRECT = 5
    INCORRECT_DATA_FORMAT = 6
    DECRYPTION_PROBLEM = 7
    SIGNATURE_PROBLEM = 8
    COMP_ID_PROBLEM = 9
    SENDING_TIME_ACCURACY = 10
    INVALID_MSG_TYPE = 11


UNSUPPORTED_MESSAGE_TYPE: Final = 3  # BusinessRejectReason (380)


def _text(text: str) -> bytes:
    return b"58=%b\x01" % render_value(TEXT, text) if text else b""


def logon_body(heartbeat_interval: int, reset: bool) -> bytes:
    """EncryptMethod 0, HeartBtInt, and ResetSeqNumFlag only when resetting (IB: no more)."""
    body = b"98=0\x01108=%d\x01" % heartbeat_interval
    return body + b"141=Y\x01" if reset else body


def heartbeat_body(test_req_id: bytes | None) -> bytes:
    return b"" if test_req_id is None else b"112=%b\x01" % test_req_id


def test_request_body(test_req_id: bytes) -> bytes:
    return b"112=%b\x01" % test_req_id


def resend_request_body(begin: int) -> bytes:
    """From `begin` to the end (16=0): one request, however long the gap grows meanwhile."""
    return b"7=%d\x0116=0\x01" % begin


def gap_fill_body(new_seq: int) -> bytes:
    return b"123=Y\x0136=%d\x01" % new_seq


def logout_body(text: str) -> bytes:
    return _text(text)


def reject_body(
    ref_seq: int, reason: int | None, text: str, ref_tag: int | None = None,
    ref_msg_type: bytes | None = None,
) -> bytes:
    """45, 371, 372, 373, 58 in FIX 4.2's order; None leaves a field out."""
    body = b"45=%d\x01" % ref_seq
    if ref_tag is not None:
        body += b"371=%d\x01" % ref_tag
    if ref_msg_type:
        body += b"372=%b\x01" % ref_msg_type
    if reason is not None:
        body += b"373=%d\x01" % reason
    return body + _text(text)


def business_reject_body(ref_seq: int, ref_msg_type: bytes, reason: int, text: str) -> bytes:
    return b"45=%d\x01372=%b\x01380=%d\x01" % (ref_seq, ref_msg_type, reason) + _text(text)


def seq_too_low_text(expected: int, received: int) -> str:
    """QuickFIX's wording, which counterparties and operators grep for."""
    return f"MsgSeqNum too low, expecting {expected} but received {received}"


SEQ_TOO_LOW_MARKER: Final = "MsgSeqNum too low"
