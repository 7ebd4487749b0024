"""Per-session settings of the session core, as a frozen dataclass.

The TOML `[session]` table keeps QuickFIX's names (house rule 4); the config loader maps
them to these Python names with `QUICKFIX_NAMES` and converts the values (times of day,
weekday names, Y/N). Settings the core does not use (SocketConnectHost, FileStorePath,
ReconnectInterval, ...) belong to the transport and the store.

Liveness (QuickFIX/J's names and defaults, documented here because QuickFIX C++ hard-codes
them): with HeartBtInt = H, a TestRequest goes out after H * (1 + TestRequestDelayMultiplier)
seconds of inbound silence (45 s for H = 30), and the connection is dropped after
H * (1 + HeartBeatTimeoutMultiplier) seconds of silence (72 s for H = 30). A Heartbeat goes
out whenever we have sent nothing for H seconds. H = 0 turns all three off.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from fixrouter.errors import ConfigError

from .schedule import SessionSchedule

# The IB CTCI application messages we accept from the counterparty (ctci.md); any other
# valid FIX 4.2 application message is answered with BusinessMessageReject 380=3.
DEFAULT_APP_MSG_TYPES: frozenset[bytes] = frozenset({b"8", b"9", b"B", b"j"})


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """Settings of one FIX session. Only the CompIDs have no default.

    Raises:
        ConfigError: a value out of range (the message names the QuickFIX setting).
    """

    sender_comp_id: str
    target_comp_id: str
    begin_string: str = "FIX.4.2"
    heartbeat_interval: int = 30
    """HeartBtInt(108), seconds; sent in our Logon."""
    reset_on_logon: bool = False
    """Send 141=Y with 34=1 and reset both numbers at every logon."""
    reset_on_logout: bool = False
    """Reset both numbers after a completed Logout handshake."""
    reset_on_disconnect: bool = False
    """Reset both numbers whenever the connection is lost."""
    logon_timeout: float = 10.0
    """Seconds to wait for the Logon answer (case 1f)."""
    logout_timeout: float = 2.0
    """Seconds to wait for the Logout answer (case 13a)."""
    check_latency: bool = True
    """Check inbound SendingTime(52) against our clock (cases 1d, 2o)."""
    max_latency: float = 120.0
    """Largest accepted |now - SendingTime|, seconds (QuickFIX MaxLatency)."""
    max_resend_age: float | None = None
    """Application messages older than this (by original SendingTime, seconds) are
    gap-filled instead of resent and reported NOT_DELIVERED (case 8'). None: no limit."""
    test_request_delay_multiplier: float = 0.5
    heartbeat_timeout_multiplier: float = 1.4
    timestamp_precision: Literal["ms", "us"] = "ms"
    """Precision of the SendingTime we write."""
    resend_chunk: int = 1000
    """Stored messages read per step while answering a ResendRequest."""
    schedule: SessionSchedule | None = None
    """StartTime/EndTime/StartDay/EndDay/TimeZone; None: always in session, never reset."""
    sender_sub_id: str | None = None
    target_sub_id: str | None = None
    sender_location_id: str | None = None
    app_msg_types: frozenset[bytes] = DEFAULT_APP_MSG_TYPES
    """Inbound application MsgTypes delivered to the router."""

    def __post_init__(self) -> None:
        if not self.sender_comp_id:
            raise ConfigError("SenderCompID must not be empty")
        if not self.target_comp_id:
            raise ConfigError("TargetCompID must not be empty")
        if self.heartbeat_interval < 0:
            raise ConfigError(f"HeartBtInt must be >= 0, got {self.heartbeat_interval}")
        for name, value in (
            ("LogonTimeout", self.logon_timeout),
            ("LogoutTimeout", self.logout_timeout),
            ("MaxLatency", self.max_latency),
        ):
            if value <= 0:
                raise ConfigError(f"{name} must be > 0, got {value}")
        if self.max_resend_age is not None and self.max_resend_age <= 0:
            raise ConfigError(f"MaxResendAge must be > 0, got {self.max_resend_age}")
        if self.test_request_delay_multiplier <= 0:
            raise ConfigError("TestRequestDelayMultiplier must be > 0")
        if self.heartbeat_timeout_multiplier <= self.test_request_delay_multiplier:
            raise ConfigError(
                "HeartBeatTimeoutMultiplier must exceed TestRequestDelayMultiplier, or the "
                "connection would drop before the TestRequest goes out"
            )
        if self.timestamp_precision not in ("ms", "us"):
            raise ConfigError(
                f"TimestampPrecision must be ms or us, got {self.timestamp_precision!r}"
            )
        if self.resend_chunk < 1:
            raise ConfigError(f"ResendChunkSize must be >= 1, got {self.resend_chunk}")

    def extra_header(self) -> tuple[tuple[int, str], ...]:
        """Constant header fields besides the CompIDs, for `fixrouter.codec.Encoder`."""
        extra = ((50, self.sender_sub_id), (57, self.target_sub_id), (142, self.sender_location_id))
        return tuple((tag, value) for tag, value in extra if value)


# QuickFIX setting name -> SessionConfig field. StartTime, EndTime, StartDay, EndDay and
# TimeZone build the `schedule` (NonStopSession=Y: no schedule); MaxResendAge,
# ResendChunkSize and AppMsgTypes are ours.
QUICKFIX_NAMES: Mapping[str, str] = MappingProxyType({
    "SenderCompID": "sender_comp_id",
    "TargetCompID": "target_comp_id",
    "BeginString": "begin_string",
    "HeartBtInt": "heartbeat_interval",
    "ResetOnLogon": "reset_on_logon",
    "ResetOnLogout": "reset_on_logout",
    "ResetOnDisconnect": "reset_on_disconnect",
    "LogonTimeout": "logon_timeout",
    "LogoutTimeout": "logout_timeout",
    "CheckLatency": "check_latency",
    "MaxLatency": "max_latency",
    "MaxResendAge": "max_resend_age",
    "TestRequestDelayMultiplier": "test_request_delay_multiplier",
    "HeartBeatTimeoutMultiplier": "heartbeat_timeout_multiplier",
    "TimestampPrecision": "timestamp_precision",
    "ResendChunkSize": "resend_chunk",
    "SenderSubID": "sender_sub_id",
    "TargetSubID": "target_sub_id",
    "SenderLocationID": "sender_location_id",
    "AppMsgTypes": "app_msg_types",
})
SCHEDULE_NAMES: tuple[str, ...] = (
    "StartTime", "EndTime", "StartDay", "EndDay", "TimeZone", "NonStopSession",
)
