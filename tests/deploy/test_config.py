"""deploy/config/router.toml: the production example loads with the engine's own loader."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from fixrouter.config import load_config
from fixrouter.errors import ConfigError
from fixrouter.operations import load

from .kit import ROUTER_TOML


def test_session_tables_load(tmp_path: Path) -> None:
    data = tomllib.loads(ROUTER_TOML.read_text())
    sessions = data["sessions"]
    # Only the session tables, written back as TOML.
    lines = []
    for table in sessions:
        lines.append("[[sessions]]")
        for key, value in table.items():
            lines.append(f"{key} = {value!r}".replace("'", '"'))
    path = tmp_path / "sessions.toml"
    path.write_text("\n".join(lines) + "\n")
    config = load_config(path)
    (session,) = config.sessions
    assert session.name == "ib-main"
    assert str(session.store.directory).startswith("/var/lib/fixrouter/")


def test_whole_file_loads_with_the_engines_own_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    # The example reads a strategy token from the environment (systemd's EnvironmentFile).
    monkeypatch.setenv("MOMENTUM_TOKEN", "not-a-real-token")
    config = load(ROUTER_TOML)
    assert [session.name for session in config.sessions] == ["ib-main"]
    for table in ("gateway", "metrics", "risk"):
        assert table in config.sections, table


def test_a_missing_token_variable_is_a_config_error_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MOMENTUM_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="MOMENTUM_TOKEN"):
        load(ROUTER_TOML)
