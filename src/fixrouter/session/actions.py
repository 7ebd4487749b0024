"""What the session core asks its driver to do: the output side of the sans-I/O contract.

Theory of operation
-------------------
Every entry point of `Session` (`connection_made`, `receive_data`, `on_timer`, `send_app`,
`logout`, `connection_lost`) returns a list of actions, in the order they must be carried
out. The driver (the asyncio transport, or a test) never interprets FIX itself:

* `SendBytes`: write `data` to the socket, but only once `store.synced_upto() >= ticket`.
  The session journals every message that takes a new MsgSeqNum *before* returning its
  SendBytes (write before send); the ticket is the store's `written_upto()` right after
  that save. Tickets never decrease, within one list or across calls, so a driver that
  keeps a FIFO of pending writes and releases its head once a group-commit `sync()` covers
  it preserves wire order. In `os` durability mode (and with `MemoryStore`) every ticket is
  already synced when it is returned.
* `Deliver`: an inbound application message for the router, in MsgSeqNum order (messages
  queued behind a gap are delivered once the gap is filled). It has already been saved
  with `store.save_inbound`, so the order book can replay it after a crash.
* `SessionEvent`: something an operator, a metric or a strategy should know. `kind` values
  are stable UPPER_SNAKE strings, safe as Prometheus labels.
* `Disconnect`: close the socket now, then call `Session.connection_lost`. The session is
  already DISCONNECTED when it returns this; further input is ignored until
  `connection_made`. Nothing after a Disconnect in the same list needs carrying out (the
  session never puts anything there).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final, final

from fixrouter.codec import FixMessage


class EventKind(enum.StrEnum):
    """What a `SessionEvent` reports. Values are stable: they are metric labels."""

    LOGGED_ON = "LOGGED_ON"
    """The counterparty accepted our Logon."""
    LOGGED_OUT = "LOGGED_OUT"
    """The session left the logged-on state (detail says why)."""
    GAP_DETECTED = "GAP_DETECTED"
    """An inbound MsgSeqNum was too high; we sent a ResendRequest. ref_seq = first missing."""
    GAP_FILLED = "GAP_FILLED"
    """Every message we asked to be resent has arrived or been gap-filled."""
    RESEND_REQUESTED = "RESEND_REQUESTED"
    """The counterparty asked us to resend. ref_seq = BeginSeqNo; detail has the range."""
    RESEND_COMPLETE = "RESEND_COMPLETE"
    """We finished streaming the answer to a ResendRequest."""
    REJECT_RECEIVED = "REJECT_RECEIVED"
    """A session Reject (35=3) arrived. ref_seq = RefSeqNum(45); message = the Reject."""
    BUSINESS_REJECT_RECEIVED = "BUSINESS_REJECT_RECEIVED"
    """A BusinessMessageReject (35=j) arrived (it is also delivered). ref_seq = 45."""
    REJECT_SENT = "REJECT_SENT"
    """We sent a session Reject. ref_seq = the rejected MsgSeqNum."""
    BUSINESS_REJECT_SENT = "BUSINESS_REJECT_SENT"
    """We sent a BusinessMessageReject (unsupported message type). ref_seq = its MsgSeqNum."""
    NOT_DELIVERED = "NOT_DELIVERED"
    """An application message older than max_resend_age was gap-filled instead of resent:
    the counterparty never got it. ref_seq = its MsgSeqNum; message = the stored original."""
    SEQ_TOO_LOW_ON_LOGON = "SEQ_TOO_LOW_ON_LOGON"
    """Case 15: the sequence numbers disagree at logon. The session stays down until an
    operator resolves it (`Session.operator_action_required`)."""
    SEQ_TOO_LOW = "SEQ_TOO_LOW"
    """Case 2c: an inbound MsgSeqNum below the expected one without PossDupFlag."""
    GARBLED = "GARBLED"
    """A frame failed verification and was ignored (no sequence number consumed)."""
    TEST_REQUEST_SENT = "TEST_REQUEST_SENT"
    """Inbound silence: we sent a TestRequest."""
    HEARTBEAT_RTT = "HEARTBEAT_RTT"
    """Our TestRequest was answered; detail is the round trip in seconds."""
    SEQUENCE_RESET = "SEQUENCE_RESET"
    """The counterparty moved our expected inbound number (SequenceReset). ref_seq = new."""
    STORE_RESET = "STORE_RESET"
    """Both sequence numbers went back to 1 (ResetOnLogon, 141=Y, new session period)."""
    POSSDUP_IGNORED = "POSSDUP_IGNORED"
    """A PossDup message with an already-seen MsgSeqNum was dropped (case 2e)."""
    PROTOCOL_ERROR = "PROTOCOL_ERROR"
    """The counterparty broke the protocol in a way that ends the session (detail)."""
    OUT_OF_SESSION = "OUT_OF_SESSION"
    """The schedule says the session period is over (or a new one began)."""


class DisconnectReason(enum.StrEnum):
    """Why the session asks the driver to close the connection. Stable metric labels."""

    LOGON_TIMEOUT = "LOGON_TIMEOUT"
    """No Logon answer within logon_timeout (case 1f): reconnect with back-off."""
    LOGON_REJECTED = "LOGON_REJECTED"
    """The counterparty answered our Logon with a Logout."""
    HEARTBEAT_TIMEOUT = "HEARTBEAT_TIMEOUT"
    """Inbound silence outlasted our TestRequest (case 6): reconnect."""
    LOGOUT_COMPLETE = "LOGOUT_COMPLETE"
    """Our Logout (13a) was answered."""
    LOGOUT_TIMEOUT = "LOGOUT_TIMEOUT"
    """Our Logout was not answered within logout_timeout."""
    LOGOUT_RECEIVED = "LOGOUT_RECEIVED"
    """The counterparty logged out (13b); we answered."""
    PROTOCOL_ERROR = "PROTOCOL_ERROR"
    """A message that makes continuing unsafe (first message not Logon, garbled logon...)."""
    WRONG_BEGIN_STRING = "WRONG_BEGIN_STRING"
    """Cases 1d / 2i."""
    WRONG_COMP_ID = "WRONG_COMP_ID"
    """Cases 1c / 2k."""
    BAD_SENDING_TIME = "BAD_SENDING_TIME"
    """Cases 1d / 2o / 2f."""
    SEQ_TOO_LOW = "SEQ_TOO_LOW"
    """Case 2c, and case 15 (then `operator_action_required` is set)."""
    OPERATOR_ACTION_REQUIRED = "OPERATOR_ACTION_REQUIRED"
    """connection_made was called while an operator must first resolve case 15."""
    OUT_OF_SESSION = "OUT_OF_SESSION"
    """The schedule's session period ended or a new period began."""
    STORE_ERROR = "STORE_ERROR"
    """The message store failed: nothing more may be sent or acknowledged (fail closed)."""
    CONNECTION_LOST = "CONNECTION_LOST"
    """The connection closed without the session asking (the counterparty or the network
    dropped it). Never returned by the core: the transport reports it, for the metrics."""


# SendBytes and Deliver are built once per message, so they are plain classes with their
# own `__init__`: mypyc compiles that, while a dataclass's generated `__init__` stays
# interpreted (and a frozen one sets each field through `object.__setattr__`), which
# cost 1.4% of the engine's busy time at saturation. `Final` keeps them read-only for
# the type checker; equality, hashing and repr are the dataclass's.


@final
class SendBytes:
    """Write `data` once `store.synced_upto() >= ticket`."""

    __slots__ = ("data", "ticket")

    def __init__(self, data: bytes, ticket: int) -> None:
        self.data: Final = data
        self.ticket: Final = ticket

    def __eq__(self, other: object) -> bool:
        if type(other) is not SendBytes:
            return NotImplemented
        return self.data == other.data and self.ticket == other.ticket

    def __hash__(self) -> int:
        return hash((self.data, self.ticket))

    def __repr__(self) -> str:
        return f"SendBytes(data={self.data!r}, ticket={self.ticket!r})"


@final
class Deliver:
    """An inbound application message for the router, in sequence order."""

    __slots__ = ("message",)

    def __init__(self, message: FixMessage) -> None:
        self.message: Final = message

    def __eq__(self, other: object) -> bool:
        if type(other) is not Deliver:
            return NotImplemented
        return bool(self.message == other.message)

    def __hash__(self) -> int:
        return hash(self.message)

    def __repr__(self) -> str:
        return f"Deliver(message={self.message!r})"


@dataclass(frozen=True, slots=True)
class SessionEvent:
    """Something worth logging, counting or telling a strategy about."""

    kind: EventKind
    detail: str
    ref_seq: int | None = None
    message: FixMessage | None = None
    """The message the event is about, when there is one (a received Reject, or the stored
    original of a NOT_DELIVERED application message)."""


@dataclass(frozen=True, slots=True)
class Disconnect:
    """Close the connection now, then call `Session.connection_lost`."""

    reason: DisconnectReason
    detail: str = ""


Action = SendBytes | Deliver | SessionEvent | Disconnect

__all__ = [
    "Action",
    "Deliver",
    "Disconnect",
    "DisconnectReason",
    "EventKind",
    "SendBytes",
    "SessionEvent",
]
