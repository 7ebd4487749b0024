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

The reason (Text 58) says where the refusal came from. The made-up ExecID is unique per
session and MsgSeqNum (`<prefix><session>-<seq>`), so a second Reject of the same message
is deduplicated by the book like any resent report. These reports are not journaled:
after a restart the order is as the journal shows it (see `fixrouter.router`).
"""

from __future__ import annotations

from fixrouter.codec import FixMessage, decode_frame
from fixrouter.errors import GarbledMessageError
from fixrouter.store import MessageStore, StoreError

EXEC_ID_PREFIX = "FRREJ-"
"""ExecIDs of made-up reject reports start with this (IB's never do)."""

_ORDER_TYPES = frozenset({b"D", b"F", b"G"})


def find_sent(store: MessageStore, seq: int) -> FixMessage | None:
    """The order message (D, F or G) we sent as MsgSeqNum `seq`, if the journal has it."""
    try:
        for _, data in store.iter_outbound(seq, seq):
            message = decode_frame(data)
            return message if message.msg_type in _ORDER_TYPES else None
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
