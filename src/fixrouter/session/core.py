"""The sans-I/O FIX 4.2 initiator session: bytes and time in, actions out.

Theory of operation
-------------------
`Session` is fed by its driver (the asyncio transport, or a test with a fake clock):
`connection_made`, `receive_data(bytes, now)`, `on_timer(now)`, `send_app`, `logout`,
`connection_lost`. Each returns the `actions` to carry out, in order (see `actions`). The
driver calls `on_timer` at `next_deadline()`. Nothing here reads a clock, touches a socket
or awaits: time is an argument, so tests run in microseconds.

The session is in one of five states, each a small class in `states` (quickfixgo's
layout): handling a message or a timer tick returns the next state.

    DISCONNECTED --connection_made--> LOGON_SENT --Logon--> ACTIVE <--gap filled-- RESENDING
         ^                                |                   |  \\--seq too high-->/  |
         |                                |                   +--logout()/problem-->  |
         +-------------- Disconnect ------+---- LOGOUT_SENT <-+----------------------+

`Session` itself is the context the states share: the store, the encoder and decoder,
liveness timers, the queue of messages received ahead of a gap, and the resend jobs.

Decisions worth knowing
-----------------------
* **Every outbound message is journaled, admin ones too** (`save_outbound` before its
  `SendBytes` is returned): one rule, so every MsgSeqNum we ever put on the wire is in the
  store and the next Logon after a kill -9 uses the next unused number (case 14). Resends
  collapse the stored admin messages into GapFills.
* **Inbound application messages** are saved with `save_inbound` (which advances the
  expected number) before they are delivered; admin ones just advance it, except a
  Reject (35=3), which is saved too: it can refuse an order, and the order book's
  restart replays it (`fixrouter.oms.recovery`).
* **Rejected messages still advance** the inbound number (Reject 373=11, BusinessMessage-
  Reject, dictionary rejects), as QuickFIX does, except a PossDup message without
  OrigSendingTime (case 2g): it is not processed, so the next message reveals a gap and the
  ResendRequest lets the counterparty send it properly. If the same number is rejected that
  way twice, the second copy is accepted, so a broken peer cannot loop us.
* **A garbled frame never consumes a number** (2d/3b/3c/2t); a gap it leaves is recovered
  by ResendRequest when the next good message shows up. Before logon, though, a garbled
  answer ends the attempt (1d): nothing on that connection can be trusted yet.
* **Admin messages ahead of a gap are acted on at once** (TestRequest, Heartbeat,
  ResendRequest: liveness and the peer's recovery must not wait for ours) and leave a
  placeholder in the queue; application messages, Rejects and GapFills wait for their turn.
* **A gap that stops filling** (the expected number has not moved for max(HeartBtInt,
  10 s) while RESENDING) is asked for again, so a peer that drops a ResendRequest cannot
  leave execution reports queued forever.
* **While a ResendRequest is being answered**, messages that take new numbers (ours and
  admin) are journaled at once but held back and sent after the last resent message, so the
  counterparty sees numbers in order. `next_deadline()` returns "now" until the resend is
  done; each `on_timer` sends at most `resend_chunk` stored messages.
* **Case 15**: a Logon answer with a MsgSeqNum below the expected one, or a Logout whose
  text says "MsgSeqNum too low" in answer to our Logon, sets `operator_action_required`;
  `connection_made` then refuses until `set_next_seqs` is called. Nothing is ever reset
  silently.
"""

from __future__ import annotations

import enum
from collections import deque
from typing import TYPE_CHECKING, Final

from fixrouter.codec import Encoder, FixMessage, FrameDecoder, Garbled
from fixrouter.dictionary import CompiledValidator
from fixrouter.store import MessageStore, StoreError

from .actions import (
    Action,
    Deliver,
    Disconnect,
    DisconnectReason,
    EventKind,
    SendBytes,
    SessionEvent,
)
from .config import SessionConfig
from .errors import NotLoggedOn, OperatorActionRequired, SessionError
from .messages import (
    ADMIN_MSG_TYPES,
    BUSINESS_MESSAGE_REJECT,
    LOGON,
    LOGOUT,
    REJECT,
    business_reject_body,
    logon_body,
    logout_body,
    reject_body,
)
from .resend import ResendJob

if TYPE_CHECKING:
    from .states import State


class SessionState(enum.StrEnum):
    """The state of a session, as the outside world sees it. Stable metric labels."""

    DISCONNECTED = "DISCONNECTED"
    LOGON_SENT = "LOGON_SENT"
    ACTIVE = "ACTIVE"
    RESENDING = "RESENDING"
    """Logged on, waiting for the counterparty to fill a gap we asked to be resent."""
    LOGOUT_SENT = "LOGOUT_SENT"


# Read on every received frame: a `Final` is read directly, `SessionState.DISCONNECTED`
# is a class attribute look-up (~65 ns compiled).
_DISCONNECTED: Final = SessionState.DISCONNECTED


class Session:
    """One FIX 4.2 initiator session. See the module docstring.

    `validator`, when given, checks the fields of every inbound application message we
    deliver (`CompiledValidator.check_inbound_message`); a problem is answered with a session
    Reject carrying its RefTagID and reason, and the message is not delivered.
    """

    def __init__(
        self,
        config: SessionConfig,
        store: MessageStore,
        *,
        validator: CompiledValidator | None = None,
    ) -> None:
        from .states import DISCONNECTED

        self.config = config
        self.store = store
        self.validator = validator
        self.operator_action_required = False
        """Case 15: the transport must stay down until `set_next_seqs` clears this."""
        self.rejects_received = 0
        """Session Rejects (35=3) received since start-up (case 7)."""
        begin = config.begin_string.encode("ascii")
        self.begin_string = begin
        self.encoder = Encoder(
            config.sender_comp_id,
            config.target_comp_id,
            begin_string=config.begin_string,
            precision=config.timestamp_precision,
            extra_header=config.extra_header(),
        )
        self.timestamp = self.encoder.timestamp
        self.decoder = FrameDecoder(begin)
        # What the counterparty must put in 49 and 56.
        self.their_comp_id = config.target_comp_id.encode("ascii")
        self.our_comp_id = config.sender_comp_id.encode("ascii")
        self._state: State = DISCONNECTED
        self.out: list[Action] = []
        self.now = 0.0
        self.last_sent = 0.0
        self.last_received = 0.0
        self.sent_reset = False
        self.period_end: float | None = None
        # Liveness: the TestRequest we are waiting on, if any.
        self.test_req_id: bytes | None = None
        self.test_req_sent_at = 0.0
        self.awaiting_test_response = False
        self.test_req_counter = 0
        # Messages received ahead of a gap, by MsgSeqNum; None: already acted on.
        self.stash: dict[int, FixMessage | None] = {}
        self.resend_target = 0
        # When the expected number last moved while RESENDING (to re-ask a stalled gap).
        self.gap_seen_at = 0.0
        self.gap_seen_seq = 0
        self.rejected_possdup_seq = 0
        self.jobs: deque[ResendJob] = deque()
        self.held: list[SendBytes] = []

    # -- read-only views ---------------------------------------------------------------

    @property
    def state(self) -> SessionState:
        return self._state.kind

    @property
    def logged_on(self) -> bool:
        return self._state.kind in (SessionState.ACTIVE, SessionState.RESENDING)

    @property
    def next_sender_seq(self) -> int:
        return self.store.next_sender_seq

    @property
    def next_target_seq(self) -> int:
        return self.store.next_target_seq

    @property
    def resend_pending(self) -> bool:
        """An answer to a ResendRequest is still being streamed (call on_timer soon)."""
        return bool(self.jobs)

    def is_session_time(self, now: float) -> bool:
        """Whether the schedule allows a connection at `now` (always, without one)."""
        schedule = self.config.schedule
        return schedule is None or schedule.is_session_time(now)

    # -- driver entry points -------------------------------------------------------------

    def connection_made(self, now: float) -> list[Action]:
        """The TCP (or TLS) connection is up: send our Logon.

        Resets both sequence numbers first (rotating the store) when ResetOnLogon is set
        (then the Logon carries 141=Y and 34=1) or when the store belongs to an earlier
        session period of the schedule (QuickFIX's daily/weekly reset; no 141=Y).

        Raises:
            SessionError: the session is not DISCONNECTED.
            StoreError: the store cannot be reset or written (nothing was sent).
        """
        from .states import LogonSent

        if self._state.kind is not SessionState.DISCONNECTED:
            raise SessionError(f"connection_made in state {self._state.kind}")
        out = self._begin(now)
        if self.operator_action_required:
            out.append(SessionEvent(
                EventKind.SEQ_TOO_LOW_ON_LOGON,
                "sequence numbers must be set by an operator before logging on again",
            ))
            out.append(Disconnect(DisconnectReason.OPERATOR_ACTION_REQUIRED))
            return out
        schedule = self.config.schedule
        self.period_end = None
        if schedule is not None:
            if not schedule.is_session_time(now):
                out.append(SessionEvent(EventKind.OUT_OF_SESSION, "outside the schedule"))
                out.append(Disconnect(DisconnectReason.OUT_OF_SESSION))
                return out
            if not schedule.is_same_period(self.store.creation_time, now):
                self.reset_store(now, "new session period")
            self.period_end = schedule.period_end(now)
        reset = self.config.reset_on_logon
        if reset:
            self.reset_store(now, "ResetOnLogon")
        self.sent_reset = reset
        self.decoder.clear()
        self.last_received = now
        self.send(LOGON, logon_body(self.config.heartbeat_interval, reset), now)
        self._state = LogonSent(now + self.config.logon_timeout)
        return out

    def receive_data(self, data: bytes, now: float) -> list[Action]:
        """Bytes from the socket. Frames are handled in order; a Disconnect ends the list."""
        out = self._begin(now)
        if self._state.kind is _DISCONNECTED:
            return out
        try:
            for item in self.decoder.feed(data):
                self.last_received = now
                if isinstance(item, Garbled):
                    self._state = self._state.on_garbled(self, item, now)
                else:
                    self.awaiting_test_response = False
                    self._state = self._state.on_message(self, item, now)
                if self._state.kind is _DISCONNECTED:
                    break
        except StoreError as exc:
            self._store_failed(exc, now)
        return out

    def on_timer(self, now: float) -> list[Action]:
        """Time has passed: timeouts, heartbeats, TestRequests, resend streaming."""
        out = self._begin(now)
        try:
            self._state = self._state.on_timer(self, now)
        except StoreError as exc:
            self._store_failed(exc, now)
        return out

    def next_deadline(self) -> float | None:
        """When the driver must call `on_timer` next (None: no timer needed)."""
        if self.jobs and self._state.kind is not SessionState.DISCONNECTED:
            return self.now
        return self._state.deadline(self)

    def send_app(self, msg_type: bytes, body: bytes, now: float) -> list[Action]:
        """Journal and send one application message; `body` is rendered `tag=value|` fields.

        The body is not validated here: the dialect's builder and the dictionary's
        `validate_outbound` do that before the order reaches the session.

        Raises:
            NotLoggedOn: not ACTIVE or RESENDING (OperatorActionRequired after case 15).
            LocalProtocolError: `msg_type` is an admin message type.
            StoreError: the message could not be journaled; nothing will be sent and the
                sequence number did not advance.
        """
        if not self._state.accepts_app:
            if self.operator_action_required:
                raise OperatorActionRequired("session needs operator action (case 15)")
            raise NotLoggedOn(f"cannot send 35={msg_type!r}: session is {self._state.kind}")
        if msg_type in ADMIN_MSG_TYPES:
            raise SessionError(f"35={msg_type!r} is an admin message; the session sends those")
        store = self.store
        seq = store.next_sender_seq
        data = self.encoder.encode(msg_type, seq, self.timestamp(now), body)
        store.save_outbound(seq, data)
        self.last_sent = now
        action = SendBytes(data, store.written_upto())
        if self.jobs:
            self.held.append(action)
            return []
        return [action]

    def logout(self, now: float, text: str = "") -> list[Action]:
        """Case 13a: send Logout and wait for the answer (or logout_timeout), then close."""
        out = self._begin(now)
        try:
            self._state = self._state.logout(self, now, text)
        except StoreError as exc:
            self._store_failed(exc, now)
        return out

    def connection_lost(self, now: float) -> list[Action]:
        """The connection is gone (after our Disconnect, or on its own). Idempotent."""
        out = self._begin(now)
        if self._state.kind is not SessionState.DISCONNECTED:
            try:
                self.go_down(now, "connection lost")
            except StoreError as exc:
                out.append(SessionEvent(EventKind.PROTOCOL_ERROR, f"store: {exc}"))
        return out

    def set_next_seqs(
        self, next_sender_seq: int | None = None, next_target_seq: int | None = None
    ) -> None:
        """Operator action (`fixrouter seq`): set either number and clear case 15's flag.

        Raises:
            SessionError: the session is connected.
            StoreError: a number below 1, or the store cannot be written.
        """
        if self._state.kind is not SessionState.DISCONNECTED:
            raise SessionError("sequence numbers can only be set while disconnected")
        if next_sender_seq is not None:
            self.store.set_next_sender_seq(next_sender_seq)
        if next_target_seq is not None:
            self.store.set_next_target_seq(next_target_seq)
        self.operator_action_required = False

    # -- helpers for the states ---------------------------------------------------------

    def _begin(self, now: float) -> list[Action]:
        self.now = now
        out: list[Action] = []
        self.out = out
        return out

    def send(self, msg_type: bytes, body: bytes, now: float, *, urgent: bool = False) -> None:
        """Journal and queue an admin message with the next MsgSeqNum.

        `urgent` (Logout) abandons a resend in progress and flushes held messages first.
        """
        if urgent and self.jobs:
            self.abandon_resend("logging out")
        store = self.store
        seq = store.next_sender_seq
        data = self.encoder.encode(msg_type, seq, self.timestamp(now), body)
        store.save_outbound(seq, data)
        self.last_sent = now
        action = SendBytes(data, store.written_upto())
        if self.jobs:
            self.held.append(action)
        else:
            self.out.append(action)

    def event(
        self, kind: EventKind, detail: str, ref_seq: int | None = None,
        message: FixMessage | None = None,
    ) -> None:
        self.out.append(SessionEvent(kind, detail, ref_seq, message))

    def reject(
        self, ref_seq: int, ref_msg_type: bytes, reason: int | None, text: str,
        ref_tag: int | None = None,
    ) -> None:
        """Send a session Reject (35=3). `reason` None leaves 373 out (a FIX 4.3 reason)."""
        self.send(REJECT, reject_body(ref_seq, reason, text, ref_tag, ref_msg_type), self.now)
        self.event(EventKind.REJECT_SENT, text, ref_seq)

    def business_reject(self, ref_seq: int, ref_msg_type: bytes, reason: int, text: str) -> None:
        self.send(BUSINESS_MESSAGE_REJECT,
                  business_reject_body(ref_seq, ref_msg_type, reason, text), self.now)
        self.event(EventKind.BUSINESS_REJECT_SENT, text, ref_seq)

    def deliver(self, seq: int, message: FixMessage) -> None:
        self.store.save_inbound(seq, message.raw)
        self.out.append(Deliver(message))

    def reset_store(self, now: float, why: str) -> None:
        self.store.reset(now)
        self.stash.clear()
        self.event(EventKind.STORE_RESET, f"sequence numbers reset to 1: {why}")

    def start_resend(self, begin: int, end: int, now: float) -> None:
        """Queue a ResendRequest's answer and send its first chunk."""
        last = self.store.next_sender_seq - 1
        if end == 0 or end > last:
            end = last
        self.event(EventKind.RESEND_REQUESTED, f"resend {begin}..{end}", begin)
        if begin > end:
            return  # nothing we sent lies in that range
        job = ResendJob(
            self.store, self.encoder, begin, end,
            begin_string=self.begin_string, max_resend_age=self.config.max_resend_age,
        )
        self.jobs.append(job)
        if len(self.jobs) == 1:
            self.step_resend(now)

    def step_resend(self, now: float) -> None:
        """Send the next chunk of the oldest resend job; flush held messages when done."""
        job = self.jobs[0]
        try:
            finished = job.step(now, self.config.resend_chunk, self.out)
        except StoreError as exc:
            self.event(EventKind.PROTOCOL_ERROR, f"resend {job.begin}..{job.end} failed: {exc}")
            finished = True
        self.last_sent = now
        if finished:
            self.jobs.popleft()
            self.event(EventKind.RESEND_COMPLETE, f"resent {job.begin}..{job.end}", job.begin)
            if not self.jobs:
                self.out.extend(self.held)
                self.held.clear()
            else:
                self.step_resend(now)

    def abandon_resend(self, why: str) -> None:
        for job in self.jobs:
            self.event(EventKind.RESEND_COMPLETE, f"resend {job.begin}..{job.end} abandoned: "
                       f"{why}", job.begin)
        self.jobs.clear()
        self.out.extend(self.held)
        self.held.clear()

    def disconnect(self, reason: DisconnectReason, detail: str, now: float) -> State:
        """Tear down and append the Disconnect action last. Returns DISCONNECTED."""
        from .states import DISCONNECTED

        self.go_down(now, detail or reason.value)
        self.out.append(Disconnect(reason, detail))
        return DISCONNECTED

    def begin_logout(self, text: str, reason: DisconnectReason, now: float) -> State:
        """Send Logout and wait in LOGOUT_SENT; `reason` is reported when it completes."""
        from .states import LogoutSent

        self.send(LOGOUT, logout_body(text), now, urgent=True)
        return LogoutSent(now + self.config.logout_timeout, reason)

    def go_down(self, now: float, why: str) -> None:
        was_logged_on = self._state.kind in (
            SessionState.ACTIVE, SessionState.RESENDING, SessionState.LOGOUT_SENT
        )
        self._clear()
        if was_logged_on:
            self.event(EventKind.LOGGED_OUT, why)
        if self.config.reset_on_disconnect:
            self.reset_store(now, "ResetOnDisconnect")

    def _store_failed(self, exc: StoreError, now: float) -> None:
        # Fail closed: without the journal nothing may be sent or acknowledged.
        self.event(EventKind.PROTOCOL_ERROR, f"message store failed: {exc}")
        if self._state.kind is not SessionState.DISCONNECTED:
            self._clear()
            self.out.append(Disconnect(DisconnectReason.STORE_ERROR, str(exc)))

    def _clear(self) -> None:
        from .states import DISCONNECTED

        self._state = DISCONNECTED
        self.decoder.clear()
        self.stash.clear()
        self.jobs.clear()
        self.held.clear()  # journaled: the counterparty will ask for them at the next logon
        self.test_req_id = None
        self.awaiting_test_response = False
