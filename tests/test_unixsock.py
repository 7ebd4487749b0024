import socket
from pathlib import Path

import pytest

from fixrouter.unixsock import SocketPathError, remove_stale_socket


def short_path(tmp_path: Path) -> str:
    return str(tmp_path / "s.sock")  # tmp_path is short enough for sun_path here


def test_nothing_there_is_nothing_to_remove(tmp_path: Path) -> None:
    assert remove_stale_socket(short_path(tmp_path), "test socket") is False


def test_a_regular_file_is_never_removed(tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    path.write_text("not a socket")
    with pytest.raises(SocketPathError, match="test socket exists and is not a socket"):
        remove_stale_socket(str(path), "test socket")
    assert path.read_text() == "not a socket"


def test_a_socket_nobody_accepts_on_is_removed(tmp_path: Path) -> None:
    path = short_path(tmp_path)
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(path)
    dead.close()  # the file stays, as after a kill -9
    assert Path(path).exists()
    assert remove_stale_socket(path, "test socket") is True
    assert not Path(path).exists()


def test_a_live_socket_is_refused_and_kept(tmp_path: Path) -> None:
    path = short_path(tmp_path)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as live:
        live.bind(path)
        live.listen(1)
        with pytest.raises(SocketPathError, match="in use by another process"):
            remove_stale_socket(path, "test socket")
        assert Path(path).exists()
