"""The QuickFIX application that plays IB: the glue between QuickFIX's threads and the Books.

Theory of operation
-------------------
QuickFIX owns the sockets and the whole session layer: logon, heartbeats, sequence numbers,
resends, the FileStore and the FileLog. For each inbound application message it calls
`fromApp` on that connection's thread. We parse the message into a request value, hand it
to the session's `Book` under `_lock`, write the event-log line and send the Book's
actions, all still under the lock, so reports leave in exactly the order the Book made
them whichever thread made them. A scheduler thread sleeps on a condition tied to the same
lock until the earliest Book deadline (the next partial fill, a delayed trick) and runs
`on_timer`. Admin commands take the lock too.

Lock order is always `_lock`, then QuickFIX's session mutex (inside sendToTarget and
disconnect). QuickFIX holds its session mutex while it calls toApp, toAdmin and onLogout,
so those callbacks never take `_lock`; only fromApp and onLogon, which QuickFIX calls
without the mutex, do.

If any Python exception other than QuickFIX's own four escapes a callback, the SWIG layer
calls Py_Exit(1): the simulator would vanish mid-test. So every callback traps the rest and
logs it.

Messages sent while the session is down are stored by QuickFIX under the next sequence
numbers and replayed when the initiator's ResendRequest asks, as IB does after a line drop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import quickfix as fix

from fixrouter.sim.book import (
    ECHO_TAGS,
    Action,
    Book,
    CancelReject,
    CancelRequest,
    Drop,
    ExecReport,
    IdSource,
    NewOrder,
    News,
    Outcome,
    ReplaceRequest,
    SimCommandError,
    StatusRequest,
)
from fixrouter.sim.datadir import DataDir, EventLog, KnownClOrdIds
from fixrouter.sim.scenario import Scenario

log = logging.getLogger("fixrouter.sim")

Clock = Callable[[], float]


def fmt(d: Decimal) -> str:
    """A Decimal as FIX wants it: plain digits, no exponent, no trailing zeros."""
    text = format(d.normalize(), "f")
    return text


@dataclass(slots=True)
class _Session:
    session_id: Any  # quickfix.SessionID
    name: str  # "FIX.4.2:IB->FIXROUTER"
    target_comp_id: str
    book: Book
    known: KnownClOrdIds
    logged_on: bool = False


# Admin commands and the keys each accepts besides "cmd"; unknown keys are refused.
_ADMIN_KEYS: dict[str, frozenset[str]] = {
    "status": frozenset(),
    "unsolicited_cancel": frozenset({"session", "cl_ord_id", "order_id", "text"}),
    "bust": frozenset({"session", "cl_ord_id", "order_id", "exec_id"}),
    "correct": frozenset({"session", "cl_ord_id", "order_id", "exec_id", "qty", "price"}),
    "fill": frozenset({"session", "cl_ord_id", "order_id", "qty", "price"}),
    "news": frozenset({"session", "headline", "text"}),
    "drop": frozenset({"session"}),
}


class SimApplication(fix.Application):  # type: ignore[misc]
    """quickfix.Application for the simulator. Create, hand to an acceptor, `start()`."""

    def __init__(
        self, scenario: Scenario, data_dir: DataDir, boot: int, clock: Clock = time.monotonic
    ) -> None:
        super().__init__()
        self._scenario = scenario
        self._data_dir = data_dir
        self._boot = boot
        self._started = int(time.time())
        self._clock = clock
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._sessions: dict[str, _Session] = {}
        self._events = EventLog(data_dir.events)
        self._stopping = False
        self._scheduler = threading.Thread(target=self._run_scheduler, name="sim-timers")

    # ---- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self._scheduler.start()

    def stop(self) -> None:
        """Stop the timer thread. Pending partial fills and delayed tricks are dropped."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._scheduler.is_alive():
            self._scheduler.join()

    def close(self) -> None:
        """Close files. Call after the acceptor has stopped calling back."""
        self._events.close()
        for s in self._sessions.values():
            s.known.close()

    # ---- QuickFIX callbacks ---------------------------------------------------------------

    def onCreate(self, session_id: Any) -> None:
        with _trapped("onCreate"), self._lock:
            name = session_id.toString()
            ids = IdSource(self._boot, self._started, len(self._sessions) + 1)
            known = self._data_dir.known_clordids(name)
            self._sessions[name] = _Session(
                session_id=session_id,
                name=name,
                target_comp_id=session_id.getTargetCompID().getValue(),
                book=Book(self._scenario, ids, known),
                known=known,
            )
            log.info("session %s created (%d ClOrdIDs known)", name, len(known))

    def onLogon(self, session_id: Any) -> None:
        with _trapped("onLogon"), self._cond:
            session = self._sessions[session_id.toString()]
            session.logged_on = True
            self._events.write({"dir": "event", "session": session.name, "action": "logon"})
            session.book.on_logon(self._clock())
            self._cond.notify()
        log.info("logon %s", session_id.toString())

    def onLogout(self, session_id: Any) -> None:
        # Called under QuickFIX's session mutex: must not take _lock (see module docstring).
        # Neither needs it: the flag is one attribute store, atomic under the GIL, and an
        # event-log record is one write(2) on an O_APPEND descriptor.
        with _trapped("onLogout"):
            session = self._sessions.get(session_id.toString())
            if session is not None:
                session.logged_on = False
                self._events.write({"dir": "event", "session": session.name, "action": "logout"})
            log.info("logout %s", session_id.toString())

    def toAdmin(self, message: Any, session_id: Any) -> None:
        pass

    def fromAdmin(self, message: Any, session_id: Any) -> None:
        pass

    def toApp(self, message: Any, session_id: Any) -> None:
        pass

    def fromApp(self, message: Any, session_id: Any) -> None:
        msg_type = message.getHeader().getField(35)
        # Parse errors become QuickFIX exceptions, which it answers with a session Reject.
        request = _parse(msg_type, message)
        with _trapped("fromApp"), self._cond:
            session = self._sessions[session_id.toString()]
            now = self._clock()
            if isinstance(request, NewOrder):
                outcome = session.book.on_new(request, now)
            elif isinstance(request, CancelRequest):
                outcome = session.book.on_cancel(request, now)
            elif isinstance(request, ReplaceRequest):
                outcome = session.book.on_replace(request, now)
            else:
                outcome = session.book.on_status(request, now)
            self._log_inbound(session, msg_type, message, request, outcome)
            self._carry_out(session, outcome.actions, cause="message")
            self._cond.notify()  # the Book may have a new earliest deadline

    # ---- admin commands -------------------------------------------------------------------

    def handle_admin(self, command: dict[str, Any]) -> dict[str, Any]:
        """Run one admin command. Raises SimCommandError for a command that cannot run."""
        name = command["cmd"]
        allowed = _ADMIN_KEYS.get(name)
        if allowed is None:
            raise SimCommandError(f"unknown command {name!r} (known: {', '.join(_ADMIN_KEYS)})")
        for key in command:
            if key != "cmd" and key not in allowed:
                raise SimCommandError(
                    f"{name}: unknown key {key!r} (allowed: {', '.join(sorted(allowed))})"
                )
        with self._cond:
            if name == "status":
                return {"ok": True, "sessions": [self._status(s) for s in self._sessions.values()]}
            if name in ("news", "drop"):
                actions: tuple[Action, ...] = (
                    (News(_opt_str(command, "headline") or "Simulated IB bulletin",
                          (_opt_str(command, "text") or "",)),)
                    if name == "news" else (Drop(),)
                )  # fmt: skip
                sessions = self._pick_sessions(command.get("session"))
                for s in sessions:
                    self._carry_out(s, actions, cause="admin")
                return {"ok": True, "sessions": [s.name for s in sessions]}
            session, ref = self._order_session(command)
            book = session.book
            if name == "unsolicited_cancel":
                assert ref is not None
                actions = book.unsolicited_cancel(ref, _opt_str(command, "text"))
            elif name == "bust":
                actions = book.bust(_opt_str(command, "exec_id"), ref)
            elif name == "correct":
                actions = book.correct(
                    _opt_str(command, "exec_id"),
                    ref,
                    _opt_decimal(command, "qty"),
                    _opt_decimal(command, "price"),
                )
            else:
                assert ref is not None
                actions = book.fill(
                    ref, _opt_decimal(command, "qty"), _opt_decimal(command, "price"), self._clock()
                )
            self._carry_out(session, actions, cause="admin")
            self._cond.notify()
            return {
                "ok": True,
                "session": session.name,
                "exec_ids": [a.exec_id for a in actions if isinstance(a, ExecReport)],
            }

    def _status(self, s: _Session) -> dict[str, Any]:
        qf_session = fix.Session.lookupSession(s.session_id)
        return {
            "session": s.name,
            "logged_on": s.logged_on,
            "next_sender_seq": qf_session.getExpectedSenderNum() if qf_session else None,
            "next_target_seq": qf_session.getExpectedTargetNum() if qf_session else None,
            "orders": [
                {
                    "order_id": o.order_id,
                    "cl_ord_id": o.cl_ord_id,
                    "chain": list(o.chain),
                    "symbol": o.symbol,
                    "side": o.side,
                    "qty": fmt(o.qty),
                    "price": None if o.price is None else fmt(o.price),
                    "status": o.status.name.lower(),
                    "cum_qty": fmt(o.cum_qty),
                    "leaves_qty": fmt(o.leaves_qty),
                    "exec_ids": list(o.exec_ids),
                }
                for o in s.book.orders()
            ],
        }

    def _pick_sessions(self, wanted: object) -> list[_Session]:
        """Sessions named by full ID or TargetCompID; all of them when `wanted` is None."""
        if wanted is None:
            return list(self._sessions.values())
        found = [s for s in self._sessions.values() if wanted in (s.name, s.target_comp_id)]
        if not found:
            raise SimCommandError(f"no session {wanted!r} (sessions: {', '.join(self._sessions)})")
        return found

    def _order_session(self, command: dict[str, Any]) -> tuple[_Session, str | None]:
        """The session holding the order a command names (by ClOrdID or OrderID)."""
        ref = _opt_str(command, "cl_ord_id") or _opt_str(command, "order_id")
        if ref is None and command["cmd"] in ("unsolicited_cancel", "fill"):
            raise SimCommandError(f"{command['cmd']} needs cl_ord_id or order_id")
        sessions = self._pick_sessions(command.get("session"))
        if ref is None:
            exec_id = _opt_str(command, "exec_id")
            holders = [
                s for s in sessions if exec_id is None
                or any(exec_id in o.exec_ids for o in s.book.orders())
            ]  # fmt: skip
        else:
            holders = [
                s for s in sessions
                if any(ref == o.order_id or ref in o.chain for o in s.book.orders())
            ]  # fmt: skip
        if len(holders) == 1:
            return holders[0], ref
        what = ref or _opt_str(command, "exec_id") or "the last fill"
        if not holders:
            raise SimCommandError(f"no session has {what}")
        raise SimCommandError(f"several sessions could mean {what}: pass session")

    # ---- timers ---------------------------------------------------------------------------

    def _run_scheduler(self) -> None:
        with self._cond:
            while not self._stopping:
                try:
                    now = self._clock()
                    for s in self._sessions.values():
                        actions = s.book.on_timer(now)
                        if actions:
                            self._carry_out(s, actions, cause="timer")
                    deadlines = [
                        d for s in self._sessions.values()
                        if (d := s.book.next_deadline()) is not None
                    ]  # fmt: skip
                except Exception:
                    log.exception("timer work failed")
                    deadlines = []
                timeout = max(0.0, min(deadlines) - self._clock()) if deadlines else None
                self._cond.wait(timeout)

    # ---- output ---------------------------------------------------------------------------

    def _carry_out(self, session: _Session, actions: Iterable[Action], cause: str) -> None:
        """Send the Book's actions in order. Caller holds _lock."""
        for action in actions:
            if isinstance(action, Drop):
                self._events.write(
                    {"dir": "event", "session": session.name, "action": "drop", "cause": cause}
                )
                qf_session = fix.Session.lookupSession(session.session_id)
                if qf_session is not None:
                    qf_session.disconnect()
                continue
            if isinstance(action, ExecReport):
                message = _execution_report(action)
            elif isinstance(action, CancelReject):
                message = _cancel_reject(action)
            else:
                message = _news(action)
            fix.Session.sendToTarget(message, session.session_id)
            self._log_outbound(session, message, action, cause)

    def _log_inbound(
        self,
        session: _Session,
        msg_type: str,
        message: Any,
        request: NewOrder | CancelRequest | ReplaceRequest | StatusRequest,
        outcome: Outcome,
    ) -> None:
        header = message.getHeader()
        self._events.write(
            {
                "dir": "in",
                "session": session.name,
                "msg_type": msg_type,
                "seq": int(header.getField(34)),
                "cl_ord_id": request.cl_ord_id,
                "orig_cl_ord_id": getattr(request, "orig_cl_ord_id", None),
                "possdup": _flag(header, 43),
                "possresend": _flag(header, 97),
                "action": outcome.disposition.value,
                "order_id": outcome.order_id,
            }
        )

    def _log_outbound(self, session: _Session, message: Any, action: Action, cause: str) -> None:
        # sendToTarget stamped the header in place, so 34 is the sequence number it went with.
        seq = int(message.getHeader().getField(34))
        record: dict[str, object] = {"dir": "out", "session": session.name, "seq": seq}
        if isinstance(action, ExecReport):
            record |= {
                "msg_type": "8",
                "cl_ord_id": action.cl_ord_id,
                "orig_cl_ord_id": action.orig_cl_ord_id,
                "order_id": action.order_id,
                "exec_id": action.exec_id,
                "exec_ref_id": action.exec_ref_id,
                "exec_trans_type": action.exec_trans_type.value,
                "exec_type": str(action.exec_type),
                "ord_status": action.ord_status.value,
                "order_qty": fmt(action.order_qty),
                "last_qty": fmt(action.last_qty),
                "last_px": fmt(action.last_px),
                "cum_qty": fmt(action.cum_qty),
                "leaves_qty": fmt(action.leaves_qty),
            }
        elif isinstance(action, CancelReject):
            record |= {
                "msg_type": "9",
                "cl_ord_id": action.cl_ord_id,
                "orig_cl_ord_id": action.orig_cl_ord_id,
                "order_id": action.order_id,
                "reason": int(action.reason),
                "text": action.text,
            }
        elif isinstance(action, News):
            record |= {"msg_type": "B", "headline": action.headline}
        record["cause"] = cause
        self._events.write(record)


# ---- message parsing -----------------------------------------------------------------------


def _parse(msg_type: str, m: Any) -> NewOrder | CancelRequest | ReplaceRequest | StatusRequest:
    """Raises quickfix.UnsupportedMessageType / FieldNotFound / IncorrectDataFormat."""
    header = m.getHeader()
    poss_dup, poss_resend = _flag(header, 43), _flag(header, 97)
    if msg_type == "D":
        return NewOrder(
            cl_ord_id=_need(m, 11),
            symbol=_need(m, 55),
            side=_need(m, 54),
            qty=_decimal(m, 38),
            ord_type=_need(m, 40),
            price=_opt_decimal_field(m, 44),
            echo=tuple((tag, m.getField(tag)) for tag in ECHO_TAGS if m.isSetField(tag)),
            poss_dup=poss_dup,
            poss_resend=poss_resend,
        )
    if msg_type == "F":
        return CancelRequest(
            cl_ord_id=_need(m, 11),
            orig_cl_ord_id=_need(m, 41),
            symbol=_need(m, 55),
            side=_need(m, 54),
            order_id=_opt(m, 37),
            poss_dup=poss_dup,
            poss_resend=poss_resend,
        )
    if msg_type == "G":
        return ReplaceRequest(
            cl_ord_id=_need(m, 11),
            orig_cl_ord_id=_need(m, 41),
            symbol=_need(m, 55),
            side=_need(m, 54),
            qty=_decimal(m, 38),
            ord_type=_need(m, 40),
            price=_opt_decimal_field(m, 44),
            order_id=_opt(m, 37),
            poss_dup=poss_dup,
            poss_resend=poss_resend,
        )
    if msg_type == "H":
        return StatusRequest(
            cl_ord_id=_need(m, 11), symbol=_opt(m, 55), side=_opt(m, 54), order_id=_opt(m, 37)
        )
    # IB rejects message types it does not support; QuickFIX answers with a reject.
    raise fix.UnsupportedMessageType()


def _flag(fields: Any, tag: int) -> bool:
    return bool(fields.isSetField(tag) and fields.getField(tag) == "Y")


def _opt(m: Any, tag: int) -> str | None:
    return m.getField(tag) if m.isSetField(tag) else None


def _need(m: Any, tag: int) -> str:
    if not m.isSetField(tag):
        raise fix.FieldNotFound(tag)
    value: str = m.getField(tag)
    return value


def _decimal(m: Any, tag: int) -> Decimal:
    try:
        d = Decimal(_need(m, tag))
    except InvalidOperation:
        raise fix.IncorrectDataFormat(tag) from None
    if not d.is_finite():
        raise fix.IncorrectDataFormat(tag)
    return d


def _opt_decimal_field(m: Any, tag: int) -> Decimal | None:
    return _decimal(m, tag) if m.isSetField(tag) else None


def _opt_str(command: dict[str, Any], key: str) -> str | None:
    value = command.get(key)
    if value is not None and not isinstance(value, str):
        raise SimCommandError(f"{command['cmd']}: {key} must be a string")
    return value


def _opt_decimal(command: dict[str, Any], key: str) -> Decimal | None:
    value = command.get(key)
    if value is None:
        return None
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        raise SimCommandError(f"{command['cmd']}: {key} is not a number: {value!r}") from None
    if not d.is_finite() or d <= 0:
        raise SimCommandError(f"{command['cmd']}: {key} must be positive: {value!r}")
    return d


# ---- message building ----------------------------------------------------------------------


def _new_message(msg_type: str) -> Any:
    message = fix.Message()
    message.getHeader().setField(fix.MsgType(msg_type))
    return message


def _set(message: Any, tag: int, value: str | None) -> None:
    if value is not None:
        message.setField(fix.StringField(tag, value))


def _transact_time() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H:%M:%S.%f")[:-3]


def _execution_report(r: ExecReport) -> Any:
    m = _new_message("8")
    _set(m, 37, r.order_id)
    _set(m, 17, r.exec_id)
    _set(m, 20, r.exec_trans_type.value)
    _set(m, 19, r.exec_ref_id)
    _set(m, 150, str(r.exec_type))
    _set(m, 39, r.ord_status.value)
    _set(m, 11, r.cl_ord_id)
    _set(m, 41, r.orig_cl_ord_id)
    _set(m, 55, r.symbol)
    _set(m, 54, r.side)
    _set(m, 38, fmt(r.order_qty))
    _set(m, 40, r.ord_type)
    _set(m, 44, None if r.price is None else fmt(r.price))
    _set(m, 32, fmt(r.last_qty))
    _set(m, 31, fmt(r.last_px))
    _set(m, 14, fmt(r.cum_qty))
    _set(m, 151, fmt(r.leaves_qty))
    _set(m, 6, fmt(r.avg_px))
    _set(m, 103, None if r.ord_rej_reason is None else str(int(r.ord_rej_reason)))
    _set(m, 58, r.text)
    _set(m, 60, _transact_time())
    for tag, value in r.echo:
        _set(m, tag, value)
    return m


def _cancel_reject(r: CancelReject) -> Any:
    m = _new_message("9")
    _set(m, 37, r.order_id)
    _set(m, 11, r.cl_ord_id)
    _set(m, 41, r.orig_cl_ord_id)
    _set(m, 39, r.ord_status.value)
    _set(m, 434, r.response_to.value)
    _set(m, 102, str(int(r.reason)))
    _set(m, 58, r.text)
    return m


def _news(n: News) -> Any:
    m = _new_message("B")
    _set(m, 148, n.headline)
    # LinesOfText is required and Text may not be empty: repeat the headline if need be.
    for line in [text for text in n.lines if text] or [n.headline]:
        group = fix.Group(33, 58)
        group.setField(fix.StringField(58, line))
        m.addGroup(group)
    return m


class _trapped:
    """Context manager: log and swallow any exception (see the module docstring for why)."""

    def __init__(self, where: str) -> None:
        self._where = where

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: object) -> bool:  # fmt: skip
        if exc is not None:
            log.error("%s failed", self._where, exc_info=(exc_type, exc, tb))  # type: ignore[arg-type]
        return exc_type is not None and issubclass(exc_type, Exception)
