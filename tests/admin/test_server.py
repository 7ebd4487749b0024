"""admin/server and admin/client: the Unix socket, against a test-local target."""

from __future__ import annotations

import os
import socket
import stat
import threading
from pathlib import Path

import pytest

from fixrouter.admin.client import call
from fixrouter.admin.protocol import AdminError, AdminRefused, KillSwitchCommand
from fixrouter.admin.server import AdminServer
from fixrouter.risk import KillScope

from .fake import FakeTarget, served


def short_path(tmp_path: Path) -> Path:
    return tmp_path / "a.sock"


def test_socket_is_private_and_answers_each_command(tmp_path: Path) -> None:
    target = FakeTarget()
    path = short_path(tmp_path)
    with served(path, target):
        mode = os.stat(path).st_mode
        assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600
        assert call(path, "status")["strategies"] == ["alpha"]
        result = call(path, "kill_switch", engage=True, scope="account", name="U1",
                      cancel_all=True)
        assert result["engaged"] is True
        assert target.calls[-1] == ("kill_switch",
                                    KillSwitchCommand(True, KillScope.ACCOUNT, "U1", True))
        assert call(path, "reload")["restart_needed"] == ["gateway"]
        assert call(path, "seq_show")["sessions"][0]["operator_action_required"] is True
        assert call(path, "seq_set", next_out=20)["resumed"] is True
        assert call(path, "ref_price", symbol="AAPL", price="1.5")["price"] == "1.5"
        target.refuse = "session is ACTIVE"
        with pytest.raises(AdminRefused, match="session is ACTIVE"):
            call(path, "seq_set", next_out=20)
        with pytest.raises(AdminRefused, match="unknown cmd"):
            call(path, "explode")
    # Every target call ran on the server's loop thread, none on ours.
    assert threading.get_ident() not in target.threads and len(target.threads) == 1
    assert not path.exists()  # removed at close


def test_several_requests_on_one_connection_and_oversized_lines(tmp_path: Path) -> None:
    path = short_path(tmp_path)
    with served(path, FakeTarget()):
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(path))
            s.sendall(b'{"cmd":"status"}\n\n{"cmd":"reload"}\n')
            data = b""
            while data.count(b"\n") < 2:
                data += s.recv(65536)
            first, second = data.splitlines()[:2]
            assert b'"ok":true' in first and b"restart_needed" in second
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(path))
            s.sendall(b"x" * (70 * 1024) + b"\n")
            assert b"request longer than" in s.recv(65536)


def test_a_stale_socket_is_replaced_and_a_live_one_refused(tmp_path: Path) -> None:
    path = short_path(tmp_path)
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))
    stale.close()  # the file stays; nobody accepts on it: a killed engine's
    with served(path, FakeTarget()):
        assert call(path, "status")
        import asyncio

        second = AdminServer(path, FakeTarget())
        with pytest.raises(AdminError, match="in use"):
            asyncio.run(second.start())
    path.write_text("not a socket")
    with pytest.raises(AdminError, match="not a socket"):
        import asyncio

        asyncio.run(AdminServer(path, FakeTarget()).start())


def test_client_errors_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(AdminError, match=r"no admin socket at .*is the engine running"):
        call(tmp_path / "missing.sock", "status")
    path = short_path(tmp_path)
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(str(path))
    dead.close()
    with pytest.raises(AdminError, match="nobody answers"):
        call(path, "status")
