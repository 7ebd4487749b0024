"""One small class per session state; handling an input returns the next state.

Theory of operation
-------------------
The states keep no data of their own beyond their deadlines: sequence numbers live in the
store, and the rest of the shared context (timers, the queue of messages received ahead of a
gap, resend jobs) lives on `Session`, passed in as `s`. Every handler appends its actions to
`s.out` through the session's helpers and returns the next state.

* `Disconnected` ignores everything.
* `LogonSent` accepts only the Logon answer (or a Logout refusing us); anything else is
  case 1e. Header problems here end the attempt at once (1c, 1d): we are not logged on, so
  there is nobody to send a Reject to.
* `InSession` holds the logged-on logic, shared by its three subclasses:

  1. header checks (CompIDs, SendingTime window) -> Reject (+ Logout when fatal);
  2. Logout and SequenceReset-Reset are handled whatever their MsgSeqNum;
  3. MsgSeqNum too high -> queue it (acting at once on Heartbeat, TestRequest and
     ResendRequest) and, from `Active`, send one ResendRequest (7=expected, 16=0) and move
     to `Resending`; too low -> ignore if PossDup, else Logout "MsgSeqNum too low" and
     disconnect;
  4. PossDup checks (122 present, not after 52), then the message itself;
  5. drain the queue while its head is the next expected number.

  `Active` is the normal state. `Resending` waits for a gap to fill: it sends no more
  ResendRequests (one with 16=0 covers everything) and returns to `Active` once the queue is
  empty and the expected number has passed the highest number seen. `LogoutSent` keeps
  processing what arrives (an execution report after our Logout must still be delivered)
  until the counterparty's Logout or the logout timeout.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar, Final, NamedTuple, cast

from fixrouter.codec import FixMessage, Garbled, GarbledReason, parse_utc_timestamp
from fixrouter.errors import RemoteProtocolError

from .actions import DisconnectReason, EventKind
from .core import SessionState
from .messages import (
    BEGIN_SEQ_NO,
    BUSINESS_MESSAGE_REJECT,
    END_SEQ_NO,
    FIX42_MSG_TYPES,
    GAP_FILL_FLAG,
    HEARTBEAT,
    LOGON,
    LOGOUT,
    NEW_SEQ_NO,
    REF_SEQ_NUM,
    REJECT,
    RESEND_REQUEST,
    RESET_SEQ_NUM_FLAG,
    SEQ_TOO_LOW_MARKER,
    SEQUENCE_RESET,
    TEST_REQ_ID,
    TEST_REQUEST,
    TEXT,
    UNSUPPORTED_MESSAGE_TYPE,
    RejectReason,
    heartbeat_body,
    logon_body,
    logout_body,
    resend_request_body,
    seq_too_low_text,
    test_request_body,
)

if TYPE_CHECKING:
    from .core import Session

# A frame whose header is well formed but names another BeginString (cases 1d, 2i), as
# opposed to line noise that merely starts with `8=`.
_OTHER_BEGIN_STRING: Final = re.compile(rb"8=(FIX[!-~]*)\x019=\d+\x01").match
# Admin messages acted on even when they arrive ahead of a gap.
_ACT_NOW: Final = frozenset({HEARTBEAT, TEST_REQUEST, RESEND_REQUEST})
_POSS_DUP: Final = b"43"
_MIN_GAP_STALL: Final = 10.0  # seconds; see Resending
_YES: Final = b"Y"


class HeaderProblem(NamedTuple):
    """A reason to Reject; `fatal` (a disconnect reason) also means Logout."""

    reason: RejectReason
    ref_tag: int
    text: str
    fatal: DisconnectReason | None


def check_header(s: Session, msg: FixMessage, now: float) -> HeaderProblem | None:
    """CompIDs swapped correctly (373=9) and SendingTime inside the window (373=10)."""
    index = _index(msg)
    sender = index.get(b"49")
    if sender != s.their_comp_id:
        return HeaderProblem(
            RejectReason.COMP_ID_PROBLEM, 49,
            f"SenderCompID {sender!r} should be {s.their_comp_id!r}",
            DisconnectReason.WRONG_COMP_ID,
        )
    target = index.get(b"56")
    if target != s.our_comp_id:
        return HeaderProblem(
            RejectReason.COMP_ID_PROBLEM, 56,
            f"TargetCompID {target!r} should be {s.our_comp_id!r}",
            DisconnectReason.WRONG_COMP_ID,
        )
    sending_time = index.get(b"52")
    if sending_time is None:
        return HeaderProblem(RejectReason.REQUIRED_TAG_MISSING, 52, "SendingTime(52) missing",
                             None)
    config = s.config
    if config.check_latency:
        try:
            sent = parse_utc_timestamp(sending_time)
        except ValueError:
            return HeaderProblem(RejectReason.INCORRECT_DATA_FORMAT, 52,
                                 f"SendingTime {sending_time!r} is not a UTCTimestamp", None)
        if abs(now - sent) > config.max_latency:
            return HeaderProblem(
                RejectReason.SENDING_TIME_ACCURACY, 52,
                f"SendingTime accuracy problem: {now - sent:+.3f}s off our clock, "
                f"limit {config.max_latency:g}s",
                DisconnectReason.BAD_SENDING_TIME,
            )
    return None


def check_possdup(msg: FixMessage) -> HeaderProblem | None:
    """Cases 2f / 2g: OrigSendingTime(122) present and not later than SendingTime(52)."""
    orig = msg.get(122)
    if orig is None:
        return HeaderProblem(RejectReason.REQUIRED_TAG_MISSING, 122,
                             "OrigSendingTime(122) missing on a PossDup message", None)
    try:
        orig_time = parse_utc_timestamp(orig)
    except ValueError:
        return HeaderProblem(RejectReason.INCORRECT_DATA_FORMAT, 122,
                             f"OrigSendingTime {orig!r} is not a UTCTimestamp", None)
    try:
        sending_time = parse_utc_timestamp(msg.index.get(b"52", b""))
    except ValueError:
        return None  # check_header already answered for 52
    if orig_time > sending_time:
        return HeaderProblem(RejectReason.SENDING_TIME_ACCURACY, 122,
                             "OrigSendingTime later than SendingTime",
                             DisconnectReason.BAD_SENDING_TIME)
    return None


def _index(msg: FixMessage) -> dict[bytes, bytes]:
    """The decoder's dict behind `msg.index`: compiled code calls `get` on a `Mapping` by
    name, on a dict directly."""
    return cast("dict[bytes, bytes]", msg.index)


def _seq_of(msg: FixMessage) -> int | None:
    raw = _index(msg).get(b"34")
    return int(raw) if raw is not None and raw.isdigit() else None


def _other_begin_string(garbled: Garbled) -> bytes | None:
    if garbled.reason is not GarbledReason.BAD_BEGIN_STRING:
        return None
    match = _OTHER_BEGIN_STRING(garbled.data)
    return match.group(1) if match else None


def _int_field(msg: FixMessage, tag: int) -> int | None:
    try:
        return msg.get_int(tag)
    except RemoteProtocolError:
        return None


class State:
    """Base: ignore everything."""

    kind: ClassVar[SessionState]
    accepts_app: ClassVar[bool] = False

    def on_message(self, s: Session, msg: FixMessage, now: float) -> State:
        return self

    def on_garbled(self, s: Session, garbled: Garbled, now: float) -> State:
        return self

    def on_timer(self, s: Session, now: float) -> State:
        return self

    def deadline(self, s: Session) -> float | None:
        return None

    def logout(self, s: Session, now: float, text: str) -> State:
        return self


class Disconnected(State):
    kind = SessionState.DISCONNECTED


DISCONNECTED: Final = Disconnected()


class LogonSent(State):
    """Our Logon is out; waiting for the answer until `expires`."""

    kind = SessionState.LOGON_SENT

    def __init__(self, expires: float) -> None:
        self.expires = expires

    def on_message(self, s: Session, msg: FixMessage, now: float) -> State:
        msg_type = msg.msg_type
        if msg_type == LOGON:
            return self._on_logon(s, msg, now)
        if msg_type == LOGOUT:
            return self._on_refused(s, msg, now)
        text = f"first message was 35={msg_type.decode('latin-1')}, not Logon"  # case 1e
        s.event(EventKind.PROTOCOL_ERROR, text, _seq_of(msg), msg)
        return s.disconnect(DisconnectReason.PROTOCOL_ERROR, text, now)

    def _on_logon(self, s: Session, msg: FixMessage, now: float) -> State:
        problem = check_header(s, msg, now)
        if problem is not None:  # cases 1c, 1d
            s.event(EventKind.PROTOCOL_ERROR, f"Logon answer refused: {problem.text}",
                    _seq_of(msg), msg)
            reason = problem.fatal or DisconnectReason.PROTOCOL_ERROR
            return s.disconnect(reason, problem.text, now)
        seq = _seq_of(msg)
        if seq is None:
            text = "Logon answer without a valid MsgSeqNum(34)"
            s.event(EventKind.PROTOCOL_ERROR, text, None, msg)
            return s.disconnect(DisconnectReason.PROTOCOL_ERROR, text, now)
        if msg.get(RESET_SEQ_NUM_FLAG) == _YES and not s.sent_reset:
            # The counterparty reset its numbers: follow, and confirm with our own 141=Y
            # Logon at 34=1 (what QuickFIX's initiator does).
            s.reset_store(now, "counterparty sent ResetSeqNumFlag(141)=Y")
            s.send(LOGON, logon_body(s.config.heartbeat_interval, True), now)
            s.sent_reset = True
        expected = s.store.next_target_seq
        if seq < expected:  # case 15
            text = seq_too_low_text(expected, seq)
            s.operator_action_required = True
            s.event(EventKind.SEQ_TOO_LOW_ON_LOGON,
                    f"{text}: staying down until an operator sets the sequence numbers",
                    seq, msg)
            s.send(LOGOUT, logout_body(text), now, urgent=True)
            return s.disconnect(DisconnectReason.SEQ_TOO_LOW, text, now)
        s.event(EventKind.LOGGED_ON,
                f"logged on; next outbound {s.store.next_sender_seq}, next inbound {expected}")
        if seq == expected:
            s.store.incr_next_target_seq()
            return ACTIVE
        s.stash[seq] = None  # case 1a': the Logon itself is handled; ask for the gap
        return ACTIVE.gap(s, seq, now)

    def _on_refused(self, s: Session, msg: FixMessage, now: float) -> State:
        text = msg.get_str(TEXT) or ""
        if _seq_of(msg) == s.store.next_target_seq:
            s.store.incr_next_target_seq()
        if SEQ_TOO_LOW_MARKER.lower() in text.lower():  # case 15, the other way round
            s.operator_action_required = True
            s.event(EventKind.SEQ_TOO_LOW_ON_LOGON,
                    f"counterparty refused our Logon: {text}: staying down until an operator "
                    "sets the sequence numbers", _seq_of(msg), msg)
            return s.disconnect(DisconnectReason.SEQ_TOO_LOW, text, now)
        s.event(EventKind.LOGGED_OUT, f"Logon refused: {text}", _seq_of(msg), msg)
        return s.disconnect(DisconnectReason.LOGON_REJECTED, text, now)

    def on_garbled(self, s: Session, garbled: Garbled, now: float) -> State:
        s.event(EventKind.GARBLED, f"{garbled.reason.value}: {garbled.detail}")
        other = _other_begin_string(garbled)
        if other is not None:
            return s.disconnect(DisconnectReason.WRONG_BEGIN_STRING,
                                f"BeginString {other!r} in the Logon answer", now)
        if garbled.reason is GarbledReason.GARBAGE:
            return self
        return s.disconnect(DisconnectReason.PROTOCOL_ERROR,
                            f"garbled Logon answer: {garbled.detail}", now)  # case 1d

    def on_timer(self, s: Session, now: float) -> State:
        if now >= self.expires:  # case 1f
            return s.disconnect(DisconnectReason.LOGON_TIMEOUT,
                                f"no Logon answer within {s.config.logon_timeout:g}s", now)
        if s.period_end is not None and now >= s.period_end:
            return s.disconnect(DisconnectReason.OUT_OF_SESSION, "session period ended", now)
        return self

    def deadline(self, s: Session) -> float | None:
        if s.period_end is not None:
            return min(self.expires, s.period_end)
        return self.expires

    def logout(self, s: Session, now: float, text: str) -> State:
        return s.disconnect(DisconnectReason.LOGOUT_COMPLETE,
                            "logout requested before the logon completed", now)


class InSession(State):
    """Logged on. See the module docstring for the order of checks."""

    accepts_app = True

    # -- hooks the subclasses override ---------------------------------------------------

    def gap(self, s: Session, seq: int, now: float) -> State:
        """`seq` arrived ahead of the expected number (already queued)."""
        expected = s.store.next_target_seq
        s.resend_target = seq
        s.gap_seen_at = now
        s.gap_seen_seq = expected
        s.send(RESEND_REQUEST, resend_request_body(expected), now)
        s.event(EventKind.GAP_DETECTED,
                f"expected MsgSeqNum {expected}, received {seq}: ResendRequest 7={expected} 16=0",
                expected)
        return RESENDING

    def retry(self, s: Session, seq: int, now: float) -> State:
        """Message `seq` was rejected without advancing (2g); the next one shows the gap."""
        return self

    def after_progress(self, s: Session) -> State:
        return self

    def fail(self, s: Session, text: str, reason: DisconnectReason, now: float) -> State:
        """A problem that ends the session: Logout, then wait for the answer."""
        s.event(EventKind.PROTOCOL_ERROR, text)
        return s.begin_logout(text, reason, now)

    # -- inputs ------------------------------------------------------------------------

    def on_message(self, s: Session, msg: FixMessage, now: float) -> State:
        msg_type = msg.msg_type
        seq = _seq_of(msg)
        if seq is None:
            text = "MsgSeqNum(34) missing or not a number"
            s.event(EventKind.PROTOCOL_ERROR, text, None, msg)
            s.send(LOGOUT, logout_body(text), now, urgent=True)
            return s.disconnect(DisconnectReason.PROTOCOL_ERROR, text, now)
        problem = check_header(s, msg, now)
        if problem is not None:
            s.reject(seq, msg_type, problem.reason, problem.text, problem.ref_tag)
            if problem.fatal is not None:  # cases 2k, 2o
                return self.fail(s, problem.text, problem.fatal, now)
            if seq == s.store.next_target_seq:
                s.store.incr_next_target_seq()
            return self.drain(s, now)
        if msg_type == LOGOUT:
            return self.on_logout(s, msg, seq, now)
        if msg_type == SEQUENCE_RESET and msg.get(GAP_FILL_FLAG) != _YES:
            return self.on_reset(s, msg, seq, now)
        expected = s.store.next_target_seq
        if seq > expected:
            if msg_type in _ACT_NOW:
                self.act_now(s, msg, msg_type, seq, now)
                s.stash[seq] = None
            else:
                s.stash[seq] = msg
            return self.gap(s, seq, now)  # case 2b
        if seq < expected:
            return self.too_low(s, msg, seq, expected, now)
        state = self.accept(s, msg, msg_type, seq, now)
        return state.drain(s, now) if isinstance(state, InSession) else state

    def on_garbled(self, s: Session, garbled: Garbled, now: float) -> State:
        s.event(EventKind.GARBLED, f"{garbled.reason.value}: {garbled.detail}")  # 2d, 3b, 3c
        other = _other_begin_string(garbled)
        if other is None:
            return self
        text = f"Incorrect BeginString {other!r}"  # case 2i
        s.send(LOGOUT, logout_body(text), now, urgent=True)
        return s.disconnect(DisconnectReason.WRONG_BEGIN_STRING, text, now)

    def on_timer(self, s: Session, now: float) -> State:
        if s.jobs:
            s.step_resend(now)
        if s.period_end is not None and now >= s.period_end:
            s.event(EventKind.OUT_OF_SESSION, "session period ended")
            return self.end_of_period(s, now)
        config = s.config
        interval = config.heartbeat_interval
        if interval:
            silence = now - s.last_received
            if s.awaiting_test_response:
                if silence >= interval * (1.0 + config.heartbeat_timeout_multiplier):  # case 6
                    return s.disconnect(DisconnectReason.HEARTBEAT_TIMEOUT,
                                        f"no message for {silence:.1f}s after a TestRequest", now)
            elif silence >= interval * (1.0 + config.test_request_delay_multiplier):
                s.test_req_counter += 1
                s.test_req_id = b"TEST-%d" % s.test_req_counter
                s.test_req_sent_at = now
                s.awaiting_test_response = True
                s.send(TEST_REQUEST, test_request_body(s.test_req_id), now)
                s.event(EventKind.TEST_REQUEST_SENT, f"no message for {silence:.1f}s")
            if now - s.last_sent >= interval:  # case 4a
                s.send(HEARTBEAT, heartbeat_body(None), now)
        return self

    def end_of_period(self, s: Session, now: float) -> State:
        return s.begin_logout("session period ended", DisconnectReason.OUT_OF_SESSION, now)

    def deadline(self, s: Session) -> float | None:
        deadline = s.period_end
        config = s.config
        interval = config.heartbeat_interval
        if interval:
            multiplier = (config.heartbeat_timeout_multiplier if s.awaiting_test_response
                          else config.test_request_delay_multiplier)
            liveness = min(s.last_sent + interval,
                           s.last_received + interval * (1.0 + multiplier))
            deadline = liveness if deadline is None else min(deadline, liveness)
        return deadline

    def logout(self, s: Session, now: float, text: str) -> State:  # case 13a
        return s.begin_logout(text, DisconnectReason.LOGOUT_COMPLETE, now)

    # -- sequence handling ---------------------------------------------------------------

    def too_low(self, s: Session, msg: FixMessage, seq: int, expected: int, now: float) -> State:
        if msg.index.get(_POSS_DUP) == _YES:  # case 2e
            s.event(EventKind.POSSDUP_IGNORED, f"PossDup MsgSeqNum {seq} already seen", seq)
            return self
        text = seq_too_low_text(expected, seq)  # case 2c
        s.event(EventKind.SEQ_TOO_LOW, text, seq, msg)
        s.send(LOGOUT, logout_body(text), now, urgent=True)
        return s.disconnect(DisconnectReason.SEQ_TOO_LOW, text, now)

    def drain(self, s: Session, now: float) -> State:
        """Process queued messages while the queue holds the next expected number."""
        state: State = self
        stash = s.stash
        store = s.store
        while stash and isinstance(state, InSession):
            expected = store.next_target_seq
            if expected not in stash:
                for stale in [seq for seq in stash if seq < expected]:
                    del stash[stale]  # gap-filled or reset past them
                break
            queued = stash.pop(expected)
            if queued is None:
                store.incr_next_target_seq()
            else:
                state = state.accept(s, queued, queued.msg_type, expected, now)
        return state.after_progress(s) if isinstance(state, InSession) else state

    def accept(self, s: Session, msg: FixMessage, msg_type: bytes, seq: int,
               now: float) -> State:
        """`msg` carries the expected number: PossDup checks, then act on it."""
        if _index(msg).get(_POSS_DUP) == _YES and msg_type != SEQUENCE_RESET:
            problem = check_possdup(msg)
            if problem is not None:
                if problem.fatal is not None:  # case 2f
                    s.reject(seq, msg_type, problem.reason, problem.text, problem.ref_tag)
                    return self.fail(s, problem.text, problem.fatal, now)
                if s.rejected_possdup_seq != seq:  # case 2g: do not advance
                    s.rejected_possdup_seq = seq
                    s.reject(seq, msg_type, problem.reason, problem.text, problem.ref_tag)
                    return self.retry(s, seq, now)
                # The same number failed this way before: take it rather than loop.
        s.stash.pop(seq, None)
        return self.process(s, msg, msg_type, seq, now)

    def process(self, s: Session, msg: FixMessage, msg_type: bytes, seq: int,
                now: float) -> State:
        store = s.store
        if msg_type in _ACT_NOW:
            self.act_now(s, msg, msg_type, seq, now)
            store.incr_next_target_seq()
        elif msg_type == REJECT:  # case 7
            s.rejects_received += 1
            ref = _int_field(msg, REF_SEQ_NUM)
            s.event(EventKind.REJECT_RECEIVED,
                    f"Reject of our MsgSeqNum {ref}: 371={msg.get_str(371)} "
                    f"373={msg.get_str(373)} 58={msg.get_str(TEXT)}", ref, msg)
            # Saved, not just counted: it may settle one of our orders, and a restart
            # must see it at its place among the reports (fixrouter.oms.recovery).
            store.save_inbound(seq, msg.raw)
        elif msg_type == SEQUENCE_RESET:  # GapFill, case 10
            new_seq = _int_field(msg, NEW_SEQ_NO)
            if new_seq is None:
                s.reject(seq, msg_type, RejectReason.REQUIRED_TAG_MISSING,
                         "NewSeqNo(36) missing or not a number", NEW_SEQ_NO)
                store.incr_next_target_seq()
            elif new_seq <= seq:
                s.reject(seq, msg_type, RejectReason.VALUE_INCORRECT,
                         f"GapFill NewSeqNo {new_seq} does not move past MsgSeqNum {seq}",
                         NEW_SEQ_NO)
                store.incr_next_target_seq()
            else:
                store.set_next_target_seq(new_seq)
                s.event(EventKind.SEQUENCE_RESET, f"GapFill {seq} -> {new_seq}", new_seq)
        elif msg_type == LOGON:
            return self.fail(s, "Logon received while logged on",
                             DisconnectReason.PROTOCOL_ERROR, now)
        else:
            self.application(s, msg, msg_type, seq)
        return self

    def act_now(self, s: Session, msg: FixMessage, msg_type: bytes, seq: int,
                now: float) -> None:
        """Heartbeat, TestRequest, ResendRequest: their effect does not depend on order."""
        if msg_type == HEARTBEAT:
            if s.test_req_id is not None and msg.get(TEST_REQ_ID) == s.test_req_id:
                s.event(EventKind.HEARTBEAT_RTT, f"{now - s.test_req_sent_at:.6f}")
                s.test_req_id = None
        elif msg_type == TEST_REQUEST:  # case 4b
            test_req_id = msg.get(TEST_REQ_ID)
            if test_req_id is None:
                s.reject(seq, msg_type, RejectReason.REQUIRED_TAG_MISSING,
                         "TestReqID(112) missing", TEST_REQ_ID)
            else:
                s.send(HEARTBEAT, heartbeat_body(test_req_id), now)
        else:  # case 8
            begin = _int_field(msg, BEGIN_SEQ_NO)
            end = _int_field(msg, END_SEQ_NO)
            if begin is None or end is None or begin < 1 or end < 0:
                s.reject(seq, msg_type, RejectReason.VALUE_INCORRECT,
                         "BeginSeqNo(7) / EndSeqNo(16) missing or invalid",
                         BEGIN_SEQ_NO if begin is None or begin < 1 else END_SEQ_NO)
            else:
                # 999999 was "infinity" before FIX 4.2; clamping treats it like 0.
                s.start_resend(begin, end, now)

    def application(self, s: Session, msg: FixMessage, msg_type: bytes, seq: int) -> None:
        store = s.store
        if msg_type not in FIX42_MSG_TYPES and not msg_type.startswith(b"U"):  # case 2q
            s.reject(seq, msg_type, RejectReason.INVALID_MSG_TYPE,
                     f"Invalid MsgType {msg_type!r}", 35)
            store.incr_next_target_seq()
            return
        if msg_type not in s.config.app_msg_types:  # case 2r
            s.business_reject(seq, msg_type, UNSUPPORTED_MESSAGE_TYPE,
                              f"Unsupported Message Type {msg_type!r}")
            store.incr_next_target_seq()
            return
        validator = s.validator
        if validator is not None:
            try:
                problem = validator.check_inbound_message(msg)
            except RemoteProtocolError as exc:
                s.reject(seq, msg_type, RejectReason(exc.reject_reason or 0), str(exc),
                         exc.ref_tag)
                store.incr_next_target_seq()
                return
            if problem is not None:
                reason = problem.reason if problem.reason.in_fix42 else None
                s.reject(seq, msg_type, reason, problem.text, problem.ref_tag)
                store.incr_next_target_seq()
                return
        s.deliver(seq, msg)
        if msg_type == BUSINESS_MESSAGE_REJECT:
            ref = _int_field(msg, REF_SEQ_NUM)
            s.event(EventKind.BUSINESS_REJECT_RECEIVED,
                    f"BusinessMessageReject of our MsgSeqNum {ref}: 380={msg.get_str(380)} "
                    f"58={msg.get_str(TEXT)}", ref, msg)

    def on_logout(self, s: Session, msg: FixMessage, seq: int, now: float) -> State:
        """Case 13b: answer and disconnect."""
        text = msg.get_str(TEXT) or ""
        if seq == s.store.next_target_seq:
            s.store.incr_next_target_seq()
        s.send(LOGOUT, logout_body(""), now, urgent=True)
        if s.config.reset_on_logout:
            s.reset_store(now, "ResetOnLogout")
        return s.disconnect(DisconnectReason.LOGOUT_RECEIVED,
                            f"counterparty logged out: {text}" if text else
                            "counterparty logged out", now)

    def on_reset(self, s: Session, msg: FixMessage, seq: int, now: float) -> State:
        """Case 11: SequenceReset-Reset, whatever its own MsgSeqNum."""
        new_seq = _int_field(msg, NEW_SEQ_NO)
        expected = s.store.next_target_seq
        if new_seq is None:
            s.reject(seq, SEQUENCE_RESET, RejectReason.REQUIRED_TAG_MISSING,
                     "NewSeqNo(36) missing or not a number", NEW_SEQ_NO)
        elif new_seq > expected:
            s.store.set_next_target_seq(new_seq)
            s.event(EventKind.SEQUENCE_RESET, f"Reset {expected} -> {new_seq}", new_seq)
        elif new_seq == expected:
            s.event(EventKind.SEQUENCE_RESET, f"Reset to {new_seq}, already expected", new_seq)
        else:
            s.reject(seq, SEQUENCE_RESET, RejectReason.VALUE_INCORRECT,
                     f"SequenceReset NewSeqNo {new_seq} is below the expected {expected}",
                     NEW_SEQ_NO)
        return self.drain(s, now)


class Active(InSession):
    kind = SessionState.ACTIVE


class Resending(InSession):
    """A ResendRequest is out; queue what arrives ahead of the gap."""

    kind = SessionState.RESENDING

    def gap(self, s: Session, seq: int, now: float) -> State:
        s.resend_target = max(s.resend_target, seq)
        return self

    def retry(self, s: Session, seq: int, now: float) -> State:
        # The counterparty may be done resending; ask again from the rejected number.
        s.send(RESEND_REQUEST, resend_request_body(seq), now)
        s.event(EventKind.GAP_DETECTED, f"MsgSeqNum {seq} rejected: ResendRequest 7={seq} 16=0",
                seq)
        return self

    def after_progress(self, s: Session) -> State:
        if not s.stash and s.store.next_target_seq > s.resend_target:
            s.event(EventKind.GAP_FILLED, f"gap filled up to {s.resend_target}",
                    s.resend_target)
            return ACTIVE
        return self

    # A peer that ignores our ResendRequest would leave its later messages (fills!) queued
    # forever. QuickFIX waits; we ask again after this long without the expected number
    # moving. A duplicate request is harmless: what arrives twice is PossDup and ignored.
    @staticmethod
    def _stall_limit(s: Session) -> float:
        return max(float(s.config.heartbeat_interval), _MIN_GAP_STALL)

    def on_timer(self, s: Session, now: float) -> State:
        state = super().on_timer(s, now)
        if state is not self:
            return state
        expected = s.store.next_target_seq
        if expected != s.gap_seen_seq:
            s.gap_seen_seq = expected
            s.gap_seen_at = now
        elif now - s.gap_seen_at >= self._stall_limit(s):
            s.gap_seen_at = now
            s.send(RESEND_REQUEST, resend_request_body(expected), now)
            s.event(EventKind.GAP_DETECTED,
                    f"gap at {expected} not filled after {self._stall_limit(s):g}s: "
                    f"ResendRequest 7={expected} 16=0 again", expected)
        return self

    def deadline(self, s: Session) -> float | None:
        deadline = super().deadline(s)
        stall = s.gap_seen_at + self._stall_limit(s)
        return stall if deadline is None else min(deadline, stall)


class LogoutSent(InSession):
    """Our Logout is out; keep processing until the answer or `expires`."""

    kind = SessionState.LOGOUT_SENT
    accepts_app = False

    def __init__(self, expires: float, reason: DisconnectReason) -> None:
        self.expires = expires
        self.reason = reason

    def gap(self, s: Session, seq: int, now: float) -> State:
        return self  # no point asking for a resend on the way out; the next logon will

    def fail(self, s: Session, text: str, reason: DisconnectReason, now: float) -> State:
        s.event(EventKind.PROTOCOL_ERROR, text)
        return self  # already logging out

    def on_logout(self, s: Session, msg: FixMessage, seq: int, now: float) -> State:
        if seq == s.store.next_target_seq:
            s.store.incr_next_target_seq()
        if s.config.reset_on_logout:
            s.reset_store(now, "ResetOnLogout")
        text = msg.get_str(TEXT) or ""
        return s.disconnect(self.reason, f"Logout answered: {text}" if text else
                            "Logout answered", now)

    def on_timer(self, s: Session, now: float) -> State:
        if s.jobs:
            s.step_resend(now)
        if now >= self.expires:
            reason = self.reason
            if reason is DisconnectReason.LOGOUT_COMPLETE:
                reason = DisconnectReason.LOGOUT_TIMEOUT
            return s.disconnect(reason, f"no Logout answer within "
                                f"{s.config.logout_timeout:g}s", now)
        return self

    def deadline(self, s: Session) -> float | None:
        return self.expires

    def logout(self, s: Session, now: float, text: str) -> State:
        return self

    def end_of_period(self, s: Session, now: float) -> State:
        return self


ACTIVE: Final = Active()
RESENDING: Final = Resending()
