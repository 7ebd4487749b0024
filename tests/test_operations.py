"""fixrouter.operations.load: the checks that span several tables of the router config."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixrouter.errors import ConfigError
from fixrouter.operations import load

TWO_SESSIONS = """
[[sessions]]
name = "desk1"
SenderCompID = "ME1"
TargetCompID = "IB"
SocketConnectHost = "127.0.0.1"
SocketConnectPort = 4000
FileStorePath = "{store}/desk1"

[[sessions]]
name = "desk2"
SenderCompID = "ME2"
TargetCompID = "IB"
SocketConnectHost = "127.0.0.1"
SocketConnectPort = 4000
FileStorePath = "{store}/desk2"
"""


def write(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "router.toml"
    path.write_text(TWO_SESSIONS.format(store=tmp_path) + extra)
    return path


def test_a_throttle_for_a_configured_session_loads(tmp_path: Path) -> None:
    config = load(write(tmp_path, "[risk.throttle.sessions.desk2]\nrate = 40\n"))
    assert [s.name for s in config.sessions] == ["desk1", "desk2"]


def test_a_throttle_for_an_unknown_session_is_an_error_naming_it(tmp_path: Path) -> None:
    path = write(tmp_path, "[risk.throttle.sessions.dsek2]\nrate = 40\n")
    with pytest.raises(ConfigError, match=r"risk\.throttle\.sessions\.dsek2.*desk1, desk2"):
        load(path)
