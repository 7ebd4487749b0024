"""Read the router's TOML file into a `RouterConfig`.

Theory of operation
-------------------
The file holds either one `[session]` table (the session is named "default" unless it has
a `name`) or an array `[[sessions]]` whose tables each have a `name`. Session tables use
QuickFIX's setting names, so a QuickFIX `[SESSION]` block ports line by line; every
setting has a default except the CompIDs and the primary endpoint.

Each known key is one row of `SETTINGS`: its name, the TOML type it accepts (a converter
that raises `_Mismatch` naming the expected type), and where the value goes (a
`SessionConfig` field, the schedule, the transport or the store). Loading a table is then:

1. every key must be a row of the table, a backup endpoint (`SocketConnectHost<n>` /
   `SocketConnectPort<n>`, n >= 1, numbered without gaps) or `name`; anything else is a
   `ConfigError` naming the key and where it is, with the closest known name as a hint;
2. each value is converted by its row; a wrong type names the key and the expected type;
3. the converted values are handed to the frozen settings classes, whose own range checks
   raise `ConfigError` naming the QuickFIX key; we prefix where it happened.

Other top-level tables belong to other layers (`[gateway]`, `[metrics]`, ...): the program
passes their parsers in `sections`, so each layer owns its settings while an unknown
table is still an error.

Across sessions, names, CompID pairs and FileStorePath directories must be unique: two
sessions sharing a journal directory or a CompID pair would corrupt each other's sequence
numbers, so the error names both sessions.

Booleans accept TOML `true`/`false` and QuickFIX's `"Y"`/`"N"`. Relative paths are taken
relative to the working directory, as QuickFIX does, and stored absolute.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from fixrouter.errors import ConfigError
from fixrouter.session import SessionConfig, SessionSchedule, parse_time_of_day, parse_weekday
from fixrouter.store import Durability
from fixrouter.transport.reconnect import Endpoint
from fixrouter.transport.settings import TlsSettings, TransportSettings

from .model import RouterConfig, SessionSettings, StoreSettings

DEFAULT_SESSION_NAME = "default"
DEFAULT_FILE_STORE_PATH = "var/store"
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_BACKUP_RE = re.compile(r"SocketConnect(Host|Port)([1-9][0-9]*)")
_TOP_LEVEL = ("session", "sessions")


class _Mismatch(Exception):
    """A value of the wrong TOML type or form; `expected` says what was wanted."""

    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected


# ---- converters: TOML value -> Python value, or _Mismatch ---------------------------------


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise _Mismatch("a string")
    return value


def _integer(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Mismatch("an integer")
    return value


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Mismatch("a number (seconds)")
    return float(value)


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if value == "Y":
        return True
    if value == "N":
        return False
    raise _Mismatch('a boolean (true/false, or "Y"/"N" as in QuickFIX)')


def _path(value: object) -> Path:
    if not isinstance(value, str) or not value:
        raise _Mismatch("a non-empty path string")
    return Path(os.path.abspath(value))


def _time_of_day(value: object) -> object:
    try:
        return parse_time_of_day(_string(value))
    except ValueError:
        raise _Mismatch('a time of day "HH:MM:SS"') from None


def _weekday(value: object) -> int:
    try:
        return parse_weekday(_string(value))
    except ValueError:
        raise _Mismatch('a weekday name ("Monday", "mon", ...)') from None


def _durability(value: object) -> Durability:
    try:
        return Durability(value)
    except ValueError:
        raise _Mismatch('"os" or "fsync"') from None


def _precision(value: object) -> Literal["ms", "us"]:
    # QuickFIX C++ counts fractional digits (0, 3, 6, 9); the codec writes 3 or 6.
    if value == 3 and not isinstance(value, bool):
        return "ms"
    if value == 6 and not isinstance(value, bool):
        return "us"
    raise _Mismatch("3 (milliseconds) or 6 (microseconds)")


def _msg_types(value: object) -> frozenset[bytes]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _Mismatch('an array of MsgType strings, e.g. ["8", "9"]')
    return frozenset(v.encode("ascii") for v in value)


# ---- the settings table --------------------------------------------------------------------

Target = Literal["core", "schedule", "transport", "tls", "store", "ssl_switch", "nonstop"]


@dataclass(frozen=True, slots=True)
class Setting:
    """One key of a session table: how to read it and where its value goes."""

    name: str
    convert: Callable[[object], Any]
    target: Target
    field: str = ""
    """The attribute set on the target (SessionConfig field, TransportSettings field...)."""


SETTINGS: tuple[Setting, ...] = (
    # The session core (fixrouter.session.SessionConfig).
    Setting("SenderCompID", _string, "core", "sender_comp_id"),
    Setting("TargetCompID", _string, "core", "target_comp_id"),
    Setting("BeginString", _string, "core", "begin_string"),
    Setting("SenderSubID", _string, "core", "sender_sub_id"),
    Setting("TargetSubID", _string, "core", "target_sub_id"),
    Setting("SenderLocationID", _string, "core", "sender_location_id"),
    Setting("HeartBtInt", _integer, "core", "heartbeat_interval"),
    Setting("TestRequestDelayMultiplier", _number, "core", "test_request_delay_multiplier"),
    Setting("HeartBeatTimeoutMultiplier", _number, "core", "heartbeat_timeout_multiplier"),
    Setting("LogonTimeout", _number, "core", "logon_timeout"),
    Setting("LogoutTimeout", _number, "core", "logout_timeout"),
    Setting("ResetOnLogon", _flag, "core", "reset_on_logon"),
    Setting("ResetOnLogout", _flag, "core", "reset_on_logout"),
    Setting("ResetOnDisconnect", _flag, "core", "reset_on_disconnect"),
    Setting("CheckLatency", _flag, "core", "check_latency"),
    Setting("MaxLatency", _number, "core", "max_latency"),
    Setting("MaxResendAge", _number, "core", "max_resend_age"),
    Setting("ResendChunkSize", _integer, "core", "resend_chunk"),
    Setting("TimestampPrecision", _precision, "core", "timestamp_precision"),
    Setting("AppMsgTypes", _msg_types, "core", "app_msg_types"),
    # The schedule (fixrouter.session.SessionSchedule).
    Setting("NonStopSession", _flag, "nonstop"),
    Setting("StartTime", _time_of_day, "schedule", "start_time"),
    Setting("EndTime", _time_of_day, "schedule", "end_time"),
    Setting("StartDay", _weekday, "schedule", "start_day"),
    Setting("EndDay", _weekday, "schedule", "end_day"),
    Setting("TimeZone", _string, "schedule", "time_zone"),
    # The transport (fixrouter.transport.TransportSettings); backup endpoints are
    # SocketConnectHost<n>/SocketConnectPort<n>, handled apart.
    Setting("SocketConnectHost", _string, "transport", "host"),
    Setting("SocketConnectPort", _integer, "transport", "port"),
    Setting("ReconnectInterval", _number, "transport", "reconnect_interval"),
    Setting("MaxReconnectInterval", _number, "transport", "max_reconnect_interval"),
    Setting("ReconnectJitter", _number, "transport", "reconnect_jitter"),
    Setting("SocketConnectTimeout", _number, "transport", "connect_timeout"),
    Setting("SocketNodelay", _flag, "transport", "nodelay"),
    Setting("SocketUseSSL", _flag, "ssl_switch"),
    Setting("CertificationAuthoritiesFile", _path, "tls", "ca_file"),
    Setting("ClientCertificateFile", _path, "tls", "cert_file"),
    Setting("ClientCertificateKeyFile", _path, "tls", "key_file"),
    Setting("SSLServerName", _string, "tls", "server_hostname"),
    # The journal (fixrouter.store.JournalStore).
    Setting("FileStorePath", _path, "store", "directory"),
    Setting("Durability", _durability, "store", "durability"),
)
_BY_NAME: Mapping[str, Setting] = {s.name: s for s in SETTINGS}
KNOWN_KEYS: frozenset[str] = frozenset(_BY_NAME) | {"name"}
DEFAULT_MAX_RECONNECT_INTERVAL = 120.0


# ---- entry points --------------------------------------------------------------------------


SectionParser = Callable[[Any], object]
"""Parses one top-level table owned by another layer (e.g. `[gateway]`) into its own
frozen settings. Raises ConfigError naming the offending key; the loader adds the table."""


def load_config(
    path: str | os.PathLike[str], *, sections: Mapping[str, SectionParser] | None = None
) -> RouterConfig:
    """Read and validate a router TOML file.

    `sections` maps the other top-level tables this program understands to their parsers;
    their results land in `RouterConfig.sections`. Any other top-level key is an error.

    Raises:
        ConfigError: the file cannot be read, is not TOML, or a setting is missing, unknown,
            of the wrong type or out of range; the message names the file and the key.
    """
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{source}: cannot read: {e.strerror}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{source}: not UTF-8 text: {e.reason}") from None
    try:
        return parse_config(text, source=source, sections=sections)
    except ConfigError as e:
        raise ConfigError(f"{source}: {e}") from None


def parse_config(
    text: str,
    *,
    source: Path | None = None,
    sections: Mapping[str, SectionParser] | None = None,
) -> RouterConfig:
    """Validate TOML text. Raises ConfigError (without the file name; `load_config` adds it)."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"not valid TOML: {e}") from None
    parsers = dict(sections or {})
    known = (*_TOP_LEVEL, *sorted(parsers))
    parsed: dict[str, object] = {}
    for key, value in document.items():
        if key in _TOP_LEVEL:
            continue
        parser = parsers.get(key)
        if parser is None:
            raise ConfigError(_unknown(key, "the top level", known))
        try:
            parsed[key] = parser(value)
        except ConfigError as e:
            raise ConfigError(f"[{key}] {e}") from None
    single, several = document.get("session"), document.get("sessions")
    if single is not None and several is not None:
        raise ConfigError("use either [session] or [[sessions]], not both")
    if single is not None:
        if not isinstance(single, dict):
            raise ConfigError("session must be a table: [session]")
        sessions = [_session(single, "[session]", DEFAULT_SESSION_NAME)]
    elif several is not None:
        if not isinstance(several, list) or not all(isinstance(t, dict) for t in several):
            raise ConfigError("sessions must be an array of tables: [[sessions]]")
        if not several:
            raise ConfigError("[[sessions]] is empty")
        sessions = [_session(t, f"[[sessions]] #{i + 1}", None) for i, t in enumerate(several)]
    else:
        raise ConfigError("no [session] table or [[sessions]] array")
    _check_distinct(sessions)
    return RouterConfig(sessions=tuple(sessions), source=source, sections=MappingProxyType(parsed))


# ---- one session table ---------------------------------------------------------------------


@dataclass(slots=True)
class _Parts:
    core: dict[str, Any] = field(default_factory=dict)
    schedule: dict[str, Any] = field(default_factory=dict)
    transport: dict[str, Any] = field(default_factory=dict)
    tls: dict[str, Any] = field(default_factory=dict)
    store: dict[str, Any] = field(default_factory=dict)
    backups: dict[int, dict[str, Any]] = field(default_factory=dict)
    use_ssl: bool | None = None
    nonstop: bool | None = None


def _session(table: dict[str, Any], where: str, default_name: str | None) -> SessionSettings:
    name = _name(table, where, default_name)
    if default_name is None:
        where = f"[[sessions]] {name!r}"
    parts = _Parts()
    for key, raw in table.items():
        if key == "name":
            continue
        backup = _BACKUP_RE.fullmatch(key)
        setting = _BY_NAME.get(key)
        try:
            if backup is not None:
                kind, number = backup.group(1), int(backup.group(2))
                value = _string(raw) if kind == "Host" else _integer(raw)
                parts.backups.setdefault(number, {})[kind] = value
            elif setting is None:
                raise ConfigError(_unknown(key, where, KNOWN_KEYS))
            else:
                _place(parts, setting, setting.convert(raw))
        except _Mismatch as e:
            raise ConfigError(
                f"{where} {key}: expected {e.expected}, got {_describe(raw)}"
            ) from None
    try:
        return SessionSettings(
            name=name,
            session=_core(parts),
            transport=_transport(parts),
            store=StoreSettings(
                directory=parts.store.get("directory", _path(DEFAULT_FILE_STORE_PATH)),
                durability=parts.store.get("durability", Durability.OS),
            ),
        )
    except ConfigError as e:
        raise ConfigError(f"{where}: {e}") from None


def _name(table: dict[str, Any], where: str, default: str | None) -> str:
    raw = table.get("name", default)
    if raw is None:
        raise ConfigError(f"{where}: name is required in [[sessions]]")
    if not isinstance(raw, str):
        raise ConfigError(f"{where} name: expected a string, got {_describe(raw)}")
    if not _NAME_RE.fullmatch(raw):
        raise ConfigError(
            f"{where} name {raw!r}: use 1 to 64 letters, digits, '_', '-' or '.', "
            "starting with a letter or digit (it becomes a metric label and a log key)"
        )
    return raw


def _place(parts: _Parts, setting: Setting, value: Any) -> None:
    if setting.target == "ssl_switch":
        parts.use_ssl = value
    elif setting.target == "nonstop":
        parts.nonstop = value
    else:
        getattr(parts, setting.target)[setting.field] = value


def _core(parts: _Parts) -> SessionConfig:
    for required in ("SenderCompID", "TargetCompID"):
        if _BY_NAME[required].field not in parts.core:
            raise ConfigError(f"{required} is required")
    return SessionConfig(**parts.core, schedule=_schedule(parts))


def _schedule(parts: _Parts) -> SessionSchedule | None:
    given = parts.schedule
    if parts.nonstop:
        if given:
            raise ConfigError(
                "NonStopSession = Y cannot be combined with "
                + ", ".join(_setting_name("schedule", f) for f in given)
            )
        return None
    if "start_time" not in given and "end_time" not in given:
        if parts.nonstop is False:
            raise ConfigError("NonStopSession = N needs StartTime and EndTime")
        if given:
            raise ConfigError(
                ", ".join(_setting_name("schedule", f) for f in given)
                + " needs StartTime and EndTime"
            )
        return None  # QuickFIX needs NonStopSession=Y here; we make it the default
    for needed, other in (("start_time", "end_time"), ("end_time", "start_time")):
        if needed not in given:
            raise ConfigError(
                f"{_setting_name('schedule', needed)} is required with "
                f"{_setting_name('schedule', other)}"
            )
    try:
        return SessionSchedule(**given)
    except KeyError:
        # zoneinfo raises ZoneInfoNotFoundError, a KeyError, for an unknown zone.
        raise ConfigError(f"TimeZone: unknown time zone {given.get('time_zone')!r}") from None
    except ValueError as e:
        raise ConfigError(str(e)) from None


def _transport(parts: _Parts) -> TransportSettings:
    values = dict(parts.transport)
    host, port = values.pop("host", None), values.pop("port", None)
    if host is None or port is None:
        missing = "SocketConnectHost" if host is None else "SocketConnectPort"
        raise ConfigError(f"{missing} is required")
    endpoints = [Endpoint(host, port)]
    for number in range(1, len(parts.backups) + 1):
        backup = parts.backups.get(number)
        if backup is None:
            raise ConfigError(
                f"backup endpoints must be numbered 1, 2, ... without gaps; "
                f"SocketConnectHost{number} is missing"
            )
        for kind in ("Host", "Port"):
            if kind not in backup:
                other = "Port" if kind == "Host" else "Host"
                raise ConfigError(
                    f"SocketConnect{kind}{number} is required with SocketConnect{other}{number}"
                )
        endpoints.append(Endpoint(backup["Host"], backup["Port"]))
    if "max_reconnect_interval" not in values:
        base = values.get("reconnect_interval", 30.0)
        values["max_reconnect_interval"] = max(DEFAULT_MAX_RECONNECT_INTERVAL, base)
    tls: TlsSettings | None = None
    if parts.use_ssl:
        tls = TlsSettings(**parts.tls)
    elif parts.tls:
        raise ConfigError(
            ", ".join(_setting_name("tls", f) for f in parts.tls) + " needs SocketUseSSL = Y"
        )
    return TransportSettings(endpoints=tuple(endpoints), tls=tls, **values)


# ---- across sessions -----------------------------------------------------------------------


def _check_distinct(sessions: list[SessionSettings]) -> None:
    """Raises ConfigError naming both sessions when two share a name, a CompID pair or a
    journal directory."""
    seen_names: dict[str, int] = {}
    seen_pairs: dict[tuple[str, str, str], str] = {}
    seen_dirs: dict[Path, str] = {}
    for index, s in enumerate(sessions):
        if s.name in seen_names:
            raise ConfigError(
                f"[[sessions]] #{seen_names[s.name] + 1} and #{index + 1} are both named {s.name!r}"
            )
        seen_names[s.name] = index
        pair = (s.session.begin_string, s.session.sender_comp_id, s.session.target_comp_id)
        if pair in seen_pairs:
            raise ConfigError(
                f"sessions {seen_pairs[pair]!r} and {s.name!r} have the same CompIDs "
                f"({pair[1]} -> {pair[2]}): one counterparty session cannot be held twice"
            )
        seen_pairs[pair] = s.name
        directory = s.store.directory
        if directory in seen_dirs:
            raise ConfigError(
                f"sessions {seen_dirs[directory]!r} and {s.name!r} share FileStorePath "
                f"{directory}: give each session its own journal directory"
            )
        seen_dirs[directory] = s.name


# ---- messages ------------------------------------------------------------------------------


def _unknown(key: str, where: str, known: frozenset[str] | tuple[str, ...]) -> str:
    hint = difflib.get_close_matches(key, sorted(known), n=1)
    suffix = f" (did you mean {hint[0]!r}?)" if hint else ""
    return f"unknown key {key!r} in {where}{suffix}"


def _setting_name(target: Target, attribute: str) -> str:
    for s in SETTINGS:
        if s.target == target and s.field == attribute:
            return s.name
    return attribute


def _describe(value: object) -> str:
    kinds = {bool: "boolean", int: "integer", float: "float", str: "string",
             list: "array", dict: "table"}  # fmt: skip
    kind = kinds.get(type(value), type(value).__name__)
    text = repr(value)
    return f"{kind} {text if len(text) <= 40 else text[:37] + '...'}"
