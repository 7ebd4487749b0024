"""The admin protocol: what the admin socket asks of the engine, and how it is spoken.

Theory of operation
-------------------
The operator's `fixrouter` CLI connects to the engine's admin socket (a Unix socket, mode
0600) and writes one JSON object per line; the engine answers each with one JSON object
per line, in order. A request names its command in `cmd`::

    {"cmd": "status"}
    {"cmd": "kill_switch", "engage": true, "scope": "account", "name": "U1",
     "cancel_all": false, "reason": "risk desk: margin call"}
    {"cmd": "reload"}
    {"cmd": "seq_show"}
    {"cmd": "seq_set", "session": "ib-main", "next_out": 120, "next_in": 87}
    {"cmd": "ref_price", "symbol": "AAPL", "price": "190.50"}

and the answer is `{"ok": true, "result": {...}}`, or `{"ok": false, "error": "..."}`
when the engine refused (the error says why, in words an operator can act on).

`parse_request` turns a line into a typed `Request` or raises `BadRequest` naming the
field; the server then calls the matching method of its `AdminTarget`. The target is a
Protocol so the server and the CLI are tested against a test-local target, and the
engine's own (`fixrouter.admin.target.ServiceTarget`) is tested against a running engine.
A target method returns a JSON-ready mapping, or raises `AdminRefused` with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

import orjson

from fixrouter.errors import FixRouterError
from fixrouter.risk import KillScope

MAX_LINE = 64 * 1024
"""Longest request line (the longest real one is well under 200 bytes)."""

Result = Mapping[str, Any]
DEFAULT_REASON = "operator (fixrouter kill-switch)"


class AdminError(FixRouterError):
    """The admin socket could not be served or reached (the message names the path)."""


class AdminRefused(FixRouterError):
    """The engine refused an admin command; the message says why."""


class BadRequest(FixRouterError):
    """A request line that is not a known command with valid fields."""


@dataclass(frozen=True, slots=True)
class Status:
    pass


@dataclass(frozen=True, slots=True)
class KillSwitchCommand:
    engage: bool
    scope: KillScope
    name: str
    cancel_all: bool
    reason: str = DEFAULT_REASON


@dataclass(frozen=True, slots=True)
class Reload:
    pass


@dataclass(frozen=True, slots=True)
class SeqShow:
    pass


@dataclass(frozen=True, slots=True)
class SeqSet:
    session: str | None
    next_out: int | None
    next_in: int | None


@dataclass(frozen=True, slots=True)
class RefPrice:
    symbol: str
    price: Decimal


Request = Status | KillSwitchCommand | Reload | SeqShow | SeqSet | RefPrice


class AdminTarget(Protocol):
    """What the admin server needs from the engine. Every method runs on the event-loop
    thread, returns a JSON-ready mapping and raises `AdminRefused` to refuse."""

    def status(self) -> Result:
        """Sessions (state, sequence numbers), strategies, open orders, kill switches."""
        ...

    def kill_switch(self, command: KillSwitchCommand) -> Result:
        """Engage or release one switch (`cancel_all`: also cancel its working orders)."""
        ...

    def reload(self) -> Result:
        """Re-read the risk limits from the config file; an invalid file changes nothing."""
        ...

    def seq_show(self) -> Result:
        """Each session's next outbound and inbound MsgSeqNum and whether it needs an
        operator (case 15)."""
        ...

    def seq_set(self, command: SeqSet) -> Result:
        """Set the numbers of a logged-out session, then resume it if it was stopped for
        an operator."""
        ...

    def ref_price(self, command: RefPrice) -> Result:
        """Set an instrument's reference price for the risk checks."""
        ...


def dispatch(target: AdminTarget, request: Request) -> Result:
    if isinstance(request, Status):
        return target.status()
    if isinstance(request, KillSwitchCommand):
        return target.kill_switch(request)
    if isinstance(request, Reload):
        return target.reload()
    if isinstance(request, SeqShow):
        return target.seq_show()
    if isinstance(request, SeqSet):
        return target.seq_set(request)
    return target.ref_price(request)


# ---- the wire ------------------------------------------------------------------------------


def encode(obj: Mapping[str, Any]) -> bytes:
    return orjson.dumps(obj, default=str) + b"\n"


def answer_ok(result: Result) -> bytes:
    return encode({"ok": True, "result": result})


def answer_error(error: str) -> bytes:
    return encode({"ok": False, "error": error})


def request_line(cmd: str, **fields: Any) -> bytes:
    return encode({"cmd": cmd, **fields})


_FIELDS: Mapping[str, frozenset[str]] = {
    "status": frozenset(),
    "kill_switch": frozenset({"engage", "scope", "name", "cancel_all", "reason"}),
    "reload": frozenset(),
    "seq_show": frozenset(),
    "seq_set": frozenset({"session", "next_out", "next_in"}),
    "ref_price": frozenset({"symbol", "price"}),
}


def parse_request(line: bytes) -> Request:
    """Raises BadRequest naming what is wrong."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise BadRequest("not a JSON object") from None
    if not isinstance(obj, dict):
        raise BadRequest("not a JSON object")
    cmd = obj.get("cmd")
    if not isinstance(cmd, str) or cmd not in _FIELDS:
        raise BadRequest(f"unknown cmd {cmd!r} (known: {', '.join(_FIELDS)})")
    extra = set(obj) - _FIELDS[cmd] - {"cmd"}
    if extra:
        raise BadRequest(f"{cmd}: unknown field(s) {', '.join(sorted(extra))}")
    if cmd == "status":
        return Status()
    if cmd == "reload":
        return Reload()
    if cmd == "seq_show":
        return SeqShow()
    if cmd == "kill_switch":
        return _kill_switch(obj)
    if cmd == "seq_set":
        return _seq_set(obj)
    return _ref_price(obj)


def _kill_switch(obj: Mapping[str, Any]) -> KillSwitchCommand:
    engage = obj.get("engage")
    if type(engage) is not bool:
        raise BadRequest("kill_switch: engage must be true or false")
    try:
        scope = KillScope(obj.get("scope", "engine"))
    except ValueError:
        raise BadRequest(
            f"kill_switch: scope must be one of {', '.join(s.value for s in KillScope)}"
        ) from None
    name = obj.get("name") or ""
    if not isinstance(name, str):
        raise BadRequest("kill_switch: name must be a string")
    if (scope is KillScope.ENGINE) != (not name):
        raise BadRequest(f"kill_switch: the {scope.value} scope "
                         f"{'takes no name' if scope is KillScope.ENGINE else 'needs a name'}")
    cancel_all = obj.get("cancel_all", False)
    if type(cancel_all) is not bool:
        raise BadRequest("kill_switch: cancel_all must be true or false")
    if cancel_all and not engage:
        raise BadRequest("kill_switch: cancel_all goes with engaging a switch")
    reason = obj.get("reason") or DEFAULT_REASON
    if not isinstance(reason, str):
        raise BadRequest("kill_switch: reason must be a string")
    return KillSwitchCommand(engage, scope, name, cancel_all, reason)


def _seq_set(obj: Mapping[str, Any]) -> SeqSet:
    session = obj.get("session")
    if session is not None and (not isinstance(session, str) or not session):
        raise BadRequest("seq_set: session must be a session name")
    numbers: list[int | None] = []
    for key in ("next_out", "next_in"):
        value = obj.get(key)
        if value is not None and (type(value) is not int or value < 1):
            raise BadRequest(f"seq_set: {key} must be an integer of at least 1")
        numbers.append(value)
    if numbers == [None, None]:
        raise BadRequest("seq_set: give next_out, next_in or both")
    return SeqSet(session, numbers[0], numbers[1])


def _ref_price(obj: Mapping[str, Any]) -> RefPrice:
    symbol = obj.get("symbol")
    if not isinstance(symbol, str) or not symbol:
        raise BadRequest("ref_price: symbol must be a non-empty string")
    price = parse_price(obj.get("price"))
    return RefPrice(symbol, price)


def parse_price(value: object) -> Decimal:
    """A positive decimal price from a string or number. Raises BadRequest."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise BadRequest("price must be a decimal string, e.g. \"190.50\"")
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        raise BadRequest(f"price {value!r} is not a number") from None
    if not price.is_finite() or price <= 0:
        raise BadRequest(f"price {value!r} must be above 0")
    return price
