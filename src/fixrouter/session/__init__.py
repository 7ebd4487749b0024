"""The sans-I/O FIX 4.2 initiator session: bytes and time in, actions out.

See `session.core` for the theory of operation, `session.actions` for the driver's side of
the contract, `session.config` for the settings and `session.schedule` for the session
periods.
"""

from .actions import (
    Action,
    Deliver,
    Disconnect,
    DisconnectReason,
    EventKind,
    SendBytes,
    SessionEvent,
)
from .config import QUICKFIX_NAMES, SessionConfig
from .core import Session, SessionState
from .errors import NotLoggedOn, OperatorActionRequired, SessionError
from .schedule import SessionSchedule, parse_time_of_day, parse_weekday

__all__ = [
    "QUICKFIX_NAMES",
    "Action",
    "Deliver",
    "Disconnect",
    "DisconnectReason",
    "EventKind",
    "NotLoggedOn",
    "OperatorActionRequired",
    "SendBytes",
    "Session",
    "SessionConfig",
    "SessionError",
    "SessionEvent",
    "SessionSchedule",
    "SessionState",
    "parse_time_of_day",
    "parse_weekday",
]
