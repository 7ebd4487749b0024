"""Refusals that arrive without an order report, turned into the report the book expects.

IB can refuse one of our order messages without an ExecutionReport or an
OrderCancelReject: with a session-level Reject (35=3) or a BusinessMessageReject (35=j)
naming its MsgSeqNum (RefSeqNum 45), or the session may find, while answering a resend,
that the message is too old to resend (`NOT_DELIVERED`). The order book understands only
reports, so the router looks the refused message up in the session's journal and hands
the book what IB would have sent had it answered in kind:

* a refused NewOrderSingle (D) becomes an ExecutionReport rejecting it (150=8, 39=8);
* a refused OrderCancelRequest (F) or OrderCancelReplaceRequest (G) becomes an
  OrderCancelReject (35=9) of that request, with CxlRejResponseTo(434) 1 or 2.

The reason (Text 58) says where the refusal came from (`refusal_of`). The made-up ExecID
is unique per session and MsgSeqNum (`<prefix><session>-<seq>`), so a second Reject of
the same message is deduplicated by the book like any resent report.

The made-up reports are not journaled; what they are made from is. A 35=j is an
application message and a 35=3 is saved by the session too (`fixrouter.session.states`),
both at their place among the inbound reports, and the refused message is in the
outbound journal. So a restart (`fixrouter.oms.recovery`) derives the same reports with
the same functions, and the book after it matches the book before. A refusal the session
makes itself, `NOT_DELIVERED`, leaves no inbound message, so it is not replayed.
"""

from __future__ import annotations

from fixrouter.codec import FixMessage, decode_frame
from fixrouter.errors import GarbledMessageError, RemoteProtocolError
from fixrouter.store import MessageStore, StoreError

EXEC_ID_PREFIX = "FRREJ-"
"""ExecIDs of made-up reject reports start with this (IB's never do)."""

ORDER_TYPES = frozenset({b"D", b"F", b"G"})
"""Our order messages: what a refusal can settle (and what the journal replays)."""
_SESSION_REJECT = b"3"
_BUSINESS_REJECT = b"j"
REFUSAL_TYPES = frozenset({_SESSION_REJECT, _BUSINESS_REJECT})
"""Inbound messages that may refuse one of ours by MsgSeqNum (`refusal_of`)."""


def session_reject_reason(reject: FixMessage) -> str:
    """The reason a session Reject (35=3) gives for refusing our message."""
    return f"session reject: {reject.get_str(58) or f'SessionRejectReason {reject.get_str(373)}'}"


def business_reject_reason(reject: FixMessage) -> str:
    """The reason a BusinessMessageReject (35=j) gives for refusing our message."""
    text = reject.get_str(58) or f"BusinessRejectReason {reject.get_str(380) or '?'}"
    return f"business reject: {text}"


def refusal_of(reject: FixMessage) -> tuple[int, str] | None:
    """(RefSeqNum, reason) of an inbound 35=3 or 35=j, or None if it is neither or names
    no usable MsgSeqNum (a 35=j with only RefMsgType names no message of ours: which of
    our messages of that type it means cannot be known, so it settles nothing)."""
    msg_type = reject.msg_type
    if msg_type == _SESSION_REJECT:
        # As the session reads it for REJECT_RECEIVED (`get_int`).
        try:
            seq = reject.get_int(45)
        except RemoteProtocolError:
            return None
        return None if seq is None else (seq, session_reject_reason(reject))
    if msg_type == _BUSINESS_REJECT:
        # As the router reads it live: digits only.
        ref = reject.get_str(45)
        if ref is None or not ref.isdigit():
            return None
        return int(ref), business_reject_reason(reject)
    return None


def find_sent(store: MessageStore, seq: int) -> FixMessage | None:
    """The order message (D, F or G) we sent as MsgSeqNum `seq`, if the journal has it."""
    try:
        for _, data in store.iter_outbound(seq, seq):
            message = decode_frame(data)
            return message if message.msg_type in ORDER_TYPES else None
    except (StoreError, GarbledMessageError):
        return None
    return None


def refusal_report(sent: FixMessage, session: str, seq: int, reason: str) -> FixMessage | None:
    """The report that tells the order book `sent` was refused, or None if `sent` has no
    ClOrdID (then it is not one of ours to settle)."""
    cl = sent.get(11)
    if not cl:
        return None
    text = reason.encode("latin-1", "replace")
    if sent.msg_type == b"D":
        fields = [
            (b"35", b"8"), (b"11", cl), (b"17", f"{EXEC_ID_PREFIX}{session}-{seq}".encode()),
            (b"20", b"0"), (b"150", b"8"), (b"39", b"8"), (b"58", text),
        ]  # fmt: skip
    else:
        orig = sent.get(41) or b""
        response_to = b"1" if sent.msg_type == b"F" else b"2"
        fields = [
            (b"35", b"9"), (b"11", cl), (b"41", orig), (b"434", response_to), (b"58", text),
        ]
    return _message(fields)


def _message(fields: list[tuple[bytes, bytes]]) -> FixMessage:
    tokens: list[bytes] = []
    for tag, value in fields:
        tokens += (tag, value)
    raw = b"".join(tag + b"=" + value + b"\x01" for tag, value in fields)
    return FixMessage(raw, tokens, dict(fields))
