"""Tests for fixrouter.config.loader: the router TOML file, its defaults and its errors."""

from __future__ import annotations

import dataclasses
import os
import re
from datetime import time
from pathlib import Path

import pytest

from fixrouter.config import SETTINGS, load_config, parse_config
from fixrouter.errors import ConfigError
from fixrouter.session import SessionConfig, SessionSchedule
from fixrouter.store import Durability
from fixrouter.transport import Endpoint, TlsSettings, TransportSettings

REPO = Path(__file__).resolve().parents[2]

MINIMAL = """\
[session]
SenderCompID = "FIXROUTER"
TargetCompID = "IB"
SocketConnectHost = "127.0.0.1"
SocketConnectPort = 9878
HeartBtInt = 30
FileStorePath = "var/store"
"""


def session_table(**extra: object) -> str:
    """A minimal [session] table plus `extra` keys rendered as TOML."""
    lines = [MINIMAL.rstrip()]
    for key, value in extra.items():
        lines.append(f"{key} = {_toml(value)}")
    return "\n".join(lines) + "\n"


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return str(value)


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    return str(info.value)


# ---- the minimal file and its defaults -----------------------------------------------------


def test_minimal_file_gives_one_session_named_default() -> None:
    config = parse_config(MINIMAL)
    assert [s.name for s in config.sessions] == ["default"]
    s = config.sessions[0]
    assert s.session.sender_comp_id == "FIXROUTER"
    assert s.session.target_comp_id == "IB"
    assert s.session.heartbeat_interval == 30
    assert s.transport.endpoints == (Endpoint("127.0.0.1", 9878),)
    assert s.store.directory == Path(os.getcwd(), "var/store")


def test_minimal_file_defaults_every_other_setting() -> None:
    s = parse_config(MINIMAL).sessions[0]
    # The core: everything but what the file sets is SessionConfig's own default.
    assert s.session == SessionConfig(
        sender_comp_id="FIXROUTER", target_comp_id="IB", heartbeat_interval=30
    )
    assert s.session.begin_string == "FIX.4.2"
    assert s.session.reset_on_logon is False
    assert s.session.reset_on_logout is False
    assert s.session.reset_on_disconnect is False
    assert s.session.logon_timeout == 10.0
    assert s.session.logout_timeout == 2.0
    assert s.session.check_latency is True
    assert s.session.max_latency == 120.0
    assert s.session.max_resend_age is None
    assert s.session.timestamp_precision == "ms"
    assert s.session.schedule is None  # no StartTime/EndTime: a non-stop session
    # The transport.
    assert s.transport == TransportSettings(endpoints=(Endpoint("127.0.0.1", 9878),))
    assert s.transport.reconnect_interval == 30.0
    assert s.transport.max_reconnect_interval == 120.0
    assert s.transport.reconnect_jitter == 0.2
    assert s.transport.connect_timeout == 10.0
    assert s.transport.nodelay is True
    assert s.transport.tls is None
    # The store.
    assert s.store.durability is Durability.OS


def test_file_store_path_defaults_to_var_store(tmp_path: Path) -> None:
    text = MINIMAL.replace('FileStorePath = "var/store"\n', "")
    assert parse_config(text).sessions[0].store.directory == Path(os.getcwd(), "var/store")


def test_heartbeat_interval_has_a_default() -> None:
    text = MINIMAL.replace("HeartBtInt = 30\n", "")
    assert parse_config(text).sessions[0].session.heartbeat_interval == 30


def test_journal_stem_follows_quickfix_naming() -> None:
    s = parse_config(MINIMAL).sessions[0]
    assert s.store.stem(s.session) == Path(os.getcwd(), "var/store/FIX.4.2-FIXROUTER-IB")


def test_max_reconnect_interval_default_is_never_below_the_base() -> None:
    s = parse_config(session_table(ReconnectInterval=600)).sessions[0]
    assert s.transport.max_reconnect_interval == 600.0


# ---- every setting -------------------------------------------------------------------------


def test_every_setting_is_read(tmp_path: Path) -> None:
    text = session_table(
        BeginString="FIX.4.2",
        SenderSubID="DESK",
        TargetSubID="TSUB",
        SenderLocationID="NY",
        TestRequestDelayMultiplier=0.25,
        HeartBeatTimeoutMultiplier=1.0,
        LogonTimeout=5,
        LogoutTimeout=1.5,
        ResetOnLogon="Y",
        ResetOnLogout=True,
        ResetOnDisconnect="N",
        CheckLatency=False,
        MaxLatency=30,
        MaxResendAge=3600,
        ResendChunkSize=50,
        TimestampPrecision=6,
        AppMsgTypes=["8", "9"],
        StartTime="17:05:00",
        EndTime="17:00:00",
        StartDay="Sunday",
        EndDay="fri",
        TimeZone="America/New_York",
        SocketConnectHost1="10.0.0.2",
        SocketConnectPort1=9879,
        SocketConnectHost2="backup.example",
        SocketConnectPort2=9880,
        ReconnectInterval=2,
        MaxReconnectInterval=60,
        ReconnectJitter=0.5,
        SocketConnectTimeout=3,
        SocketNodelay="N",
        SocketUseSSL="Y",
        CertificationAuthoritiesFile="ca.pem",
        ClientCertificateFile="client.pem",
        ClientCertificateKeyFile="client.key",
        SSLServerName="fix.example",
        Durability="fsync",
    )
    s = parse_config(text).sessions[0]
    c = s.session
    assert (c.sender_sub_id, c.target_sub_id, c.sender_location_id) == ("DESK", "TSUB", "NY")
    assert (c.test_request_delay_multiplier, c.heartbeat_timeout_multiplier) == (0.25, 1.0)
    assert (c.logon_timeout, c.logout_timeout) == (5.0, 1.5)
    assert (c.reset_on_logon, c.reset_on_logout, c.reset_on_disconnect) == (True, True, False)
    assert (c.check_latency, c.max_latency, c.max_resend_age) == (False, 30.0, 3600.0)
    assert (c.resend_chunk, c.timestamp_precision) == (50, "us")
    assert c.app_msg_types == frozenset({b"8", b"9"})
    assert c.schedule == SessionSchedule(time(17, 5), time(17, 0), 6, 4, "America/New_York")
    t = s.transport
    assert t.endpoints == (
        Endpoint("127.0.0.1", 9878),
        Endpoint("10.0.0.2", 9879),
        Endpoint("backup.example", 9880),
    )
    assert (t.reconnect_interval, t.max_reconnect_interval) == (2.0, 60.0)
    assert (t.reconnect_jitter, t.connect_timeout, t.nodelay) == (0.5, 3.0, False)
    cwd = Path(os.getcwd())
    assert t.tls == TlsSettings(cwd / "ca.pem", cwd / "client.pem", cwd / "client.key",
                                "fix.example")  # fmt: skip
    assert s.store.durability is Durability.FSYNC


def test_every_session_config_field_has_a_setting() -> None:
    """A field added to SessionConfig must get a TOML key here (or be set by one)."""
    reachable = {s.field for s in SETTINGS if s.target == "core"} | {"schedule"}
    fields = {f.name for f in dataclasses.fields(SessionConfig)}
    assert fields - reachable == set()


def test_every_setting_is_documented_with_a_default() -> None:
    reference = (REPO / "fix" / "router-reference.md").read_text()
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `(\w+)` \| ([^|]+) \|", reference,
                                                       re.MULTILINE)}  # fmt: skip
    for setting in SETTINGS:
        assert setting.name in rows, f"{setting.name} is not in fix/router-reference.md"
        assert rows[setting.name].strip(), f"{setting.name} has no default documented"
    for extra in ("name", "SocketConnectHost<n>", "SocketConnectPort<n>"):
        assert f"`{extra}`" in reference


def test_example_config_loads() -> None:
    config = load_config(REPO / "fix" / "router.toml")
    assert config.sessions[0].session.sender_comp_id == "FIXROUTER"


# ---- errors: unknown keys, wrong types -----------------------------------------------------


def test_unknown_key_is_named_with_its_table_and_a_hint() -> None:
    message = error_of(session_table(HeartBtint=30))
    assert "unknown key 'HeartBtint' in [session]" in message
    assert "did you mean 'HeartBtInt'?" in message


def test_unknown_key_in_a_named_session() -> None:
    text = MINIMAL.replace("[session]", '[[sessions]]\nname = "desk1"') + "Bogus = 1\n"
    assert "unknown key 'Bogus' in [[sessions]] 'desk1'" in error_of(text)


def test_unknown_top_level_table() -> None:
    assert "unknown key 'sesion' in the top level" in error_of(MINIMAL + "[sesion]\nx = 1\n")


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("HeartBtInt", '"30"', "expected an integer, got string '30'"),
        ("HeartBtInt", "true", "expected an integer, got boolean True"),
        ("SocketConnectPort", "9878.0", "expected an integer, got float 9878.0"),
        ("SenderCompID", "42", "expected a string, got integer 42"),
        ("ResetOnLogon", '"yes"', 'expected a boolean (true/false, or "Y"/"N" as in QuickFIX)'),
        ("LogonTimeout", '"10"', "expected a number (seconds), got string '10'"),
        ("Durability", '"sync"', 'expected "os" or "fsync"'),
        ("TimestampPrecision", "9", "expected 3 (milliseconds) or 6 (microseconds)"),
        ("StartTime", '"5pm"', 'expected a time of day "HH:MM:SS"'),
        ("StartDay", '"Funday"', "expected a weekday name"),
        ("AppMsgTypes", '"8,9"', "expected an array of MsgType strings"),
        ("FileStorePath", '""', "expected a non-empty path string"),
        ("SocketConnectHost1", "1", "expected a string, got integer 1"),
    ],
)
def test_wrong_type_names_key_and_expected_type(key: str, value: str, expected: str) -> None:
    lines = [line for line in MINIMAL.splitlines() if not line.startswith(f"{key} =")]
    message = error_of("\n".join([*lines, f"{key} = {value}"]) + "\n")
    assert f"[session] {key}: {expected}" in message


def test_out_of_range_values_name_the_key() -> None:
    assert "[session]: HeartBtInt must be >= 0" in error_of(
        MINIMAL.replace("HeartBtInt = 30", "HeartBtInt = -1")
    )
    assert "SocketConnectPort must be 1..65535" in error_of(MINIMAL.replace("9878", "70000"))
    assert "ReconnectJitter must be in [0, 1)" in error_of(session_table(ReconnectJitter=1))
    assert "MaxReconnectInterval (5.0) must be at least ReconnectInterval (10.0)" in error_of(
        session_table(ReconnectInterval=10, MaxReconnectInterval=5)
    )


@pytest.mark.parametrize("missing", ["SenderCompID", "TargetCompID", "SocketConnectHost",
                                     "SocketConnectPort"])  # fmt: skip
def test_required_settings(missing: str) -> None:
    text = "\n".join(line for line in MINIMAL.splitlines() if not line.startswith(missing + " "))
    assert f"{missing} is required" in error_of(text + "\n")


def test_backup_endpoints_need_both_halves_and_no_gaps() -> None:
    assert "SocketConnectPort1 is required with SocketConnectHost1" in error_of(
        session_table(SocketConnectHost1="b")
    )
    assert "SocketConnectHost1 is missing" in error_of(
        session_table(SocketConnectHost2="b", SocketConnectPort2=1)
    )
    assert "unknown key 'SocketConnectHost0'" in error_of(session_table(SocketConnectHost0="b"))


def test_schedule_errors() -> None:
    assert "EndTime is required with StartTime" in error_of(session_table(StartTime="09:00:00"))
    assert "StartDay needs StartTime and EndTime" in error_of(session_table(StartDay="Mon"))
    assert "StartDay and EndDay must be given together" in error_of(
        session_table(StartTime="09:00:00", EndTime="17:00:00", StartDay="Mon")
    )
    message = error_of(
        session_table(StartTime="09:00:00", EndTime="17:00:00", TimeZone="Mars/Olympus")
    )
    assert "TimeZone" in message and "'Mars/Olympus'" in message and "unknown" in message
    assert "NonStopSession = Y cannot be combined with StartTime" in error_of(
        session_table(NonStopSession="Y", StartTime="09:00:00", EndTime="17:00:00")
    )
    assert "NonStopSession = N needs StartTime and EndTime" in error_of(
        session_table(NonStopSession=False)
    )
    assert parse_config(session_table(NonStopSession="Y")).sessions[0].session.schedule is None


def test_tls_files_need_socket_use_ssl() -> None:
    assert "CertificationAuthoritiesFile needs SocketUseSSL = Y" in error_of(
        session_table(CertificationAuthoritiesFile="ca.pem")
    )
    assert "ClientCertificateKeyFile needs ClientCertificateFile" in error_of(
        session_table(SocketUseSSL=True, ClientCertificateKeyFile="k.pem")
    )
    s = parse_config(session_table(SocketUseSSL=True)).sessions[0]
    assert s.transport.tls == TlsSettings()


def test_not_toml_and_unreadable_files_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[session\n")
    with pytest.raises(ConfigError, match=r"bad\.toml: not valid TOML"):
        load_config(bad)
    with pytest.raises(ConfigError, match=r"missing\.toml: cannot read"):
        load_config(tmp_path / "missing.toml")


def test_load_config_records_the_source(tmp_path: Path) -> None:
    path = tmp_path / "router.toml"
    path.write_text(MINIMAL)
    assert load_config(path).source == path


# ---- several sessions ----------------------------------------------------------------------


def two_sessions(second: str = "", first: str = "") -> str:
    return f"""\
[[sessions]]
name = "desk1"
SenderCompID = "FIXROUTER"
TargetCompID = "DESK1"
SocketConnectHost = "127.0.0.1"
SocketConnectPort = 9878
FileStorePath = "var/desk1"
{first}
[[sessions]]
name = "desk2"
SenderCompID = "FIXROUTER"
TargetCompID = "DESK2"
SocketConnectHost = "127.0.0.1"
SocketConnectPort = 9878
FileStorePath = "var/desk2"
{second}
"""


def test_several_sessions_keep_their_names_and_order() -> None:
    config = parse_config(two_sessions())
    assert [s.name for s in config.sessions] == ["desk1", "desk2"]
    assert config.session("desk2").session.target_comp_id == "DESK2"
    with pytest.raises(KeyError):
        config.session("desk3")


def test_session_table_may_name_its_session() -> None:
    text = MINIMAL.replace("[session]\n", '[session]\nname = "primary"\n')
    assert parse_config(text).sessions[0].name == "primary"


def test_sessions_need_a_valid_name() -> None:
    no_name = two_sessions().replace('name = "desk2"\n', "")
    assert "[[sessions]] #2: name is required" in error_of(no_name)
    bad = two_sessions().replace('name = "desk2"', 'name = "desk 2"')
    assert "name 'desk 2': use 1 to 64 letters" in error_of(bad)
    assert "name: expected a string" in error_of(two_sessions().replace('"desk2"', "2"))


def test_duplicate_names_are_an_error() -> None:
    text = two_sessions().replace('name = "desk2"', 'name = "desk1"')
    assert "[[sessions]] #1 and #2 are both named 'desk1'" in error_of(text)


def test_duplicate_comp_id_pair_names_both_sessions() -> None:
    text = two_sessions().replace('TargetCompID = "DESK2"', 'TargetCompID = "DESK1"')
    message = error_of(text)
    assert "sessions 'desk1' and 'desk2' have the same CompIDs (FIXROUTER -> DESK1)" in message


def test_shared_file_store_path_names_both_sessions() -> None:
    text = two_sessions().replace('"var/desk2"', '"var/desk1"')
    message = error_of(text)
    assert "sessions 'desk1' and 'desk2' share FileStorePath" in message


def test_shared_file_store_path_is_caught_through_spelling() -> None:
    text = two_sessions().replace('"var/desk2"', '"var/./desk1"')
    assert "share FileStorePath" in error_of(text)


def test_both_forms_or_neither_are_errors() -> None:
    assert "use either [session] or [[sessions]], not both" in error_of(MINIMAL + two_sessions())
    assert "no [session] table or [[sessions]] array" in error_of("")
    assert "[[sessions]] is empty" in error_of("sessions = []\n")
    assert "session must be a table" in error_of('session = "x"\n')


def test_errors_in_a_named_session_say_which() -> None:
    text = two_sessions(second="HeartBtInt = -5")
    assert "[[sessions]] 'desk2': HeartBtInt must be >= 0" in error_of(text)


# ---- tables owned by other layers ----------------------------------------------------------


def test_other_layers_plug_in_their_own_tables() -> None:
    def gateway(table: object) -> object:
        assert isinstance(table, dict)
        if set(table) - {"listen"}:
            raise ConfigError(f"unknown key {sorted(set(table) - {'listen'})[0]!r}")
        return ("gateway", table["listen"])

    text = MINIMAL + '[gateway]\nlisten = ["tcp://127.0.0.1:7001"]\n'
    config = parse_config(text, sections={"gateway": gateway})
    assert config.sections["gateway"] == ("gateway", ["tcp://127.0.0.1:7001"])
    assert "unknown key 'gateway' in the top level" in error_of(text)  # not passed: refused
    with pytest.raises(ConfigError, match=r"\[gateway\] unknown key 'lisen'"):
        parse_config(MINIMAL + "[gateway]\nlisen = 1\n", sections={"gateway": gateway})
    assert parse_config(MINIMAL).sections == {}
