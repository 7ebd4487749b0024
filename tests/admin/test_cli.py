"""The admin subcommands against a test-local target: arguments, output, exit statuses."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest

from fixrouter.admin.protocol import KillSwitchCommand, SeqSet
from fixrouter.cli import main
from fixrouter.risk import KillScope

from .fake import FakeTarget, served


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_status_and_the_socket_found_from_the_config(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store"
    config = tmp_path / "r.toml"
    # Only FileStorePath is read: the rest may hold variables this shell does not have.
    config.write_text(f'[session]\nFileStorePath = "{store}"\n'
                      '[gateway.clients.x]\ntoken_env = "UNSET_IN_THIS_SHELL"\n')
    with served(store / "admin.sock", FakeTarget()):
        code, out, _ = run(capsys, "status", "--config", str(config))
        assert code == 0
        assert "session s1: ACTIVE (logged on); next seq out 12, in 7" in out
        assert "strategies connected: 1 (alpha)" in out
        assert "kill switches: none engaged" in out
        code, out, _ = run(capsys, "status", "--config", str(config), "--json")
        assert orjson.loads(out)["sessions"][0]["next_out"] == 12
        assert run(capsys, "status", "--config", str(config), "--quiet")[:2] == (0, "")


def test_unreachable_engine_exits_1_and_bad_config_2(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "status", "--socket", str(tmp_path / "none.sock"))
    assert code == 1 and "no admin socket at" in err
    code, _, err = run(capsys, "status", "--config", str(tmp_path / "missing.toml"))
    assert code == 2 and "cannot read" in err
    bad = tmp_path / "bad.toml"
    bad.write_text('[admin]\nsocketz = "x"\n[session]\n')
    code, _, err = run(capsys, "reload", "--config", str(bad))
    assert code == 2 and "unknown key 'socketz'" in err


def test_kill_switch_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = FakeTarget()
    path = tmp_path / "a.sock"
    with served(path, target):
        assert run(capsys, "kill-switch", "on", "--socket", str(path))[0] == 0
        code, out, _ = run(capsys, "kill-switch", "on", "--strategy", "s9", "--cancel-all",
                           "--reason", "runaway", "--socket", str(path))
        assert code == 0 and "kill switch ENGAGED for strategy s9: runaway" in out
        assert run(capsys, "kill-switch", "off", "--account", "U1", "--socket", str(path))[0] == 0
        code, _, err = run(capsys, "kill-switch", "off", "--cancel-all", "--socket", str(path))
        assert code == 2 and "--cancel-all goes with `on`" in err
        target.refuse = "this engine runs without a risk gate"
        code, _, err = run(capsys, "kill-switch", "on", "--socket", str(path))
        assert code == 1 and "refused: this engine runs without a risk gate" in err
    commands = [arg for name, arg in target.calls if name == "kill_switch"]
    assert [(c.engage, c.scope, c.name, c.cancel_all) for c in commands] == [
        (True, KillScope.ENGINE, "", False), (True, KillScope.STRATEGY, "s9", True),
        (False, KillScope.ACCOUNT, "U1", False), (True, KillScope.ENGINE, "", False)]
    assert isinstance(commands[0], KillSwitchCommand)


def test_seq_set_needs_confirmation(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    target = FakeTarget()
    path = tmp_path / "a.sock"
    with served(path, target):
        code, out, _ = run(capsys, "seq", "show", "--socket", str(path))
        assert code == 0 and "s1: next out 12, next in 7 (DISCONNECTED)  OPERATOR ACTION" in out
        # Not a terminal and no --yes: refused before anything is sent.
        monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))
        code, _, err = run(capsys, "seq", "set", "--next-out", "20", "--socket", str(path))
        assert code == 2 and "confirm with --yes" in err
        # A terminal that does not answer yes.
        tty = io.StringIO("no\n")
        tty.isatty = lambda: True  # type: ignore[method-assign]
        monkeypatch.setattr("sys.stdin", tty)
        code, out, err = run(capsys, "seq", "set", "--next-out", "20", "--socket", str(path))
        assert code == 2 and "not confirmed" in err
        assert "s1: now next out 12, next in 7" in out  # shown before the question
        tty = io.StringIO("yes\n")
        tty.isatty = lambda: True  # type: ignore[method-assign]
        monkeypatch.setattr("sys.stdin", tty)
        code, out, _ = run(capsys, "seq", "set", "--next-out", "20", "--socket", str(path))
        assert code == 0 and "resumed: logging on again" in out
        code, _, _ = run(capsys, "seq", "set", "--session", "s1", "--next-in", "9", "--yes",
                         "--socket", str(path))
        assert code == 0
        assert run(capsys, "seq", "set", "--yes", "--socket", str(path))[0] == 2
        assert run(capsys, "seq", "set", "--next-in", "0", "--yes", "--socket", str(path))[0] == 2
    sets = [arg for name, arg in target.calls if name == "seq_set"]
    assert sets == [SeqSet(None, 20, None), SeqSet("s1", None, 9)]


def test_reload_and_ref_price(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "a.sock"
    with served(path, FakeTarget()):
        code, out, _ = run(capsys, "reload", "--socket", str(path))
        assert code == 0 and "[gateway] changed too" in out
        code, out, _ = run(capsys, "ref-price", "AAPL", "190.50", "--socket", str(path))
        assert code == 0 and "reference price of AAPL set to 190.50" in out
        code, _, err = run(capsys, "ref-price", "AAPL", "zero", "--socket", str(path))
        assert code == 2 and "is not a number" in err
