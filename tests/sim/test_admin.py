"""The admin channel's framing, with a stub handler (no simulator)."""

from __future__ import annotations

import socket
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fixrouter.errors import ConfigError
from fixrouter.sim.admin import AdminError, AdminServer, send_command
from fixrouter.sim.book import SimCommandError


def handler(command: dict[str, Any]) -> dict[str, Any]:
    if command["cmd"] == "refuse":
        raise SimCommandError("no such order")
    if command["cmd"] == "crash":
        raise RuntimeError("bug")
    return {"ok": True, "echo": command}


@pytest.fixture
def server(workdir: Path) -> Iterator[Path]:
    path = workdir / "admin.sock"
    srv = AdminServer(path, handler)
    srv.start()
    yield path
    srv.close()
    assert not path.exists()


def test_round_trip_and_mode(server: Path) -> None:
    assert stat.S_IMODE(server.stat().st_mode) == 0o600
    assert send_command(server, {"cmd": "status", "x": 1}) == {
        "ok": True, "echo": {"cmd": "status", "x": 1},
    }  # fmt: skip


def test_errors_are_replies(server: Path) -> None:
    assert send_command(server, {"cmd": "refuse"}) == {"ok": False, "error": "no such order"}
    assert "internal error: RuntimeError" in send_command(server, {"cmd": "crash"})["error"]
    assert 'string "cmd"' in send_command(server, {"nocmd": 1})["error"]


def test_several_lines_on_one_connection(server: Path) -> None:
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(server))
        s.sendall(b'{"cmd": "a"}\nnot json\n\n{"cmd": "b"}\n')
        with s.makefile("rb") as f:
            replies = [f.readline() for _ in range(3)]
    assert b'"a"' in replies[0] and b"not JSON" in replies[1] and b'"b"' in replies[2]


def test_stale_socket_is_replaced(workdir: Path) -> None:
    path = workdir / "admin.sock"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))
    stale.close()
    srv = AdminServer(path, handler)
    srv.start()
    assert send_command(path, {"cmd": "x"})["ok"]
    srv.close()


def test_refuses_long_path_and_non_socket(workdir: Path) -> None:
    with pytest.raises(ConfigError, match="longer than"):
        AdminServer(workdir / ("x" * 120), handler)
    regular = workdir / "file"
    regular.write_text("")
    with pytest.raises(ConfigError, match="not a socket"):
        AdminServer(regular, handler)


def test_client_error_when_nobody_listens(workdir: Path) -> None:
    with pytest.raises(AdminError):
        send_command(workdir / "none.sock", {"cmd": "status"})
