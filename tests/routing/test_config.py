"""`[routing]` parsed and resolved: routes by account, strategy and default, and the
errors that name the key; plus the `[[sessions]]` a multi-session config is made of."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixrouter.errors import ConfigError
from fixrouter.risk import RiskConfig
from fixrouter.routing.config import CancelWhileDown, RoutingConfig
from fixrouter.routing.service import load, routes

SESSIONS = ["primary", "backup", "desk1"]


def resolve(table: dict[str, object]) -> object:
    return RoutingConfig.from_toml_table(table).resolve(SESSIONS)


def test_without_a_table_everything_goes_to_the_first_session_and_never_fails_over() -> None:
    r = RoutingConfig.from_toml_table({}).resolve(SESSIONS)
    assert r.default == ("primary",) and r.default_session == "primary"
    assert dict(r.accounts) == {} and dict(r.strategies) == {}
    assert r.failover is False and r.cancel_while_down is CancelWhileDown.REFUSE


def test_a_route_is_a_name_or_a_preference_list() -> None:
    r = RoutingConfig.from_toml_table({
        "default_session": ["primary", "backup"],
        "accounts": {"U123": "desk1", "U456": ["backup", "primary"]},
        "strategies": {"momo": ["desk1", "primary"]},
        "failover": True,
        "cancel_while_down": "queue",
    }).resolve(SESSIONS)
    assert r.default == ("primary", "backup")
    assert dict(r.accounts) == {"U123": ("desk1",), "U456": ("backup", "primary")}
    assert dict(r.strategies) == {"momo": ("desk1", "primary")}
    assert r.failover is True and r.cancel_while_down is CancelWhileDown.QUEUE


def test_an_empty_default_means_no_default_route() -> None:
    r = RoutingConfig.from_toml_table({"default_session": []}).resolve(SESSIONS)
    assert r.default == () and r.default_session is None


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"defaults": "primary"}, "unknown key 'defaults'"),
        ({"accounts": {"U1": []}}, "accounts.U1: expected at least one session name"),
        ({"accounts": {"U1": ["a", 2]}}, "accounts.U1: expected a session name"),
        ({"accounts": ["U1"]}, "accounts: must be a table"),
        ({"strategies": {"momo": ["desk1", "desk1"]}},
         "strategies.momo: session 'desk1' is listed twice"),
        ({"default_session": [""]}, "default_session: expected a session name"),
        ({"failover": "yes"}, "failover: expected true or false"),
        ({"cancel_while_down": "later"}, 'cancel_while_down: expected "refuse" or "queue"'),
        ({"prefixes": {"desk1": 7}}, "prefixes.desk1: expected a string"),
    ],
)
def test_bad_values_name_their_key(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        RoutingConfig.from_toml_table(table)


@pytest.mark.parametrize(
    ("table", "where"),
    [
        ({"default_session": ["primary", "nope"]}, "default_session"),
        ({"accounts": {"U123": ["nope"]}}, "accounts.U123"),
        ({"strategies": {"momo": ["desk1", "nope"]}}, "strategies.momo"),
        ({"prefixes": {"nope": "N"}}, "prefixes.nope"),
    ],
)
def test_an_unknown_session_is_an_error_naming_the_key(
    table: dict[str, object], where: str
) -> None:
    config = RoutingConfig.from_toml_table(table)
    with pytest.raises(ConfigError, match=rf"\[routing\] {where}: no session 'nope' "
                                          r"\(sessions: primary, backup, desk1\)"):
        config.resolve(SESSIONS)


# ---- through the whole file ----------------------------------------------------------------

def _session(name: str, sender: str, store: str, extra: str = "") -> str:
    return f"""
[[sessions]]
name = "{name}"
SenderCompID = "{sender}"
TargetCompID = "IB"
SocketConnectHost = "127.0.0.1"
SocketConnectPort = 4001
FileStorePath = "{store}"
{extra}
"""


def test_each_session_has_its_own_compids_journal_schedule_and_throttle(tmp_path: Path) -> None:
    path = tmp_path / "router.toml"
    path.write_text(
        _session("desk1", "DESK1", f"{tmp_path}/d1", 'StartTime = "08:00:00"\n'
                                                     'EndTime = "17:00:00"')
        + _session("desk2", "DESK2", f"{tmp_path}/d2")
        + """
[risk.throttle]
rate = 50
[risk.throttle.sessions.desk2]
rate = 5

[routing]
default_session = ["desk1", "desk2"]
[routing.accounts]
U2 = "desk2"
""")
    config = load(path)
    desk1, desk2 = config.sessions
    assert (desk1.name, desk1.session.sender_comp_id) == ("desk1", "DESK1")
    assert (desk2.name, desk2.session.sender_comp_id) == ("desk2", "DESK2")
    assert desk1.store.directory != desk2.store.directory
    assert desk1.session.schedule != desk2.session.schedule
    risk = config.sections["risk"]
    assert isinstance(risk, RiskConfig)
    assert risk.throttle_for("desk1").rate == 50 and risk.throttle_for("desk2").rate == 5
    r = routes(config)
    assert r.default == ("desk1", "desk2") and dict(r.accounts) == {"U2": ("desk2",)}


def test_a_single_session_table_is_the_one_session_case(tmp_path: Path) -> None:
    path = tmp_path / "router.toml"
    path.write_text(
        _session("x", "FIXROUTER", f"{tmp_path}/s").replace("[[sessions]]", "[session]")
        .replace('name = "x"\n', "")
    )
    config = load(path)
    assert [s.name for s in config.sessions] == ["default"]
    r = routes(config)
    assert r.default == ("default",) and dict(r.prefixes) == {"default": "A"}


def test_an_unknown_session_in_routing_fails_the_load_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "router.toml"
    path.write_text(_session("desk1", "DESK1", f"{tmp_path}/d1")
                    + '[routing.accounts]\nU9 = ["desk1", "desk3"]\n')
    with pytest.raises(ConfigError, match=r"\[routing\] accounts.U9: no session 'desk3'"):
        load(path)


@pytest.mark.parametrize(
    ("second", "message"),
    [
        (("desk2", "DESK1", "d2"), "sessions 'desk1' and 'desk2' have the same CompIDs"),
        (("desk2", "DESK2", "d1"), "sessions 'desk1' and 'desk2' share FileStorePath"),
    ],
)
def test_sessions_that_would_share_a_journal_name_both(
    tmp_path: Path, second: tuple[str, str, str], message: str
) -> None:
    name, sender, store = second
    path = tmp_path / "router.toml"
    path.write_text(_session("desk1", "DESK1", f"{tmp_path}/d1")
                    + _session(name, sender, f"{tmp_path}/{store}"))
    with pytest.raises(ConfigError, match=message):
        load(path)
