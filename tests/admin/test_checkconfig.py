"""`fixrouter check-config FILE`: the whole config validated offline, exit 0 or 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixrouter.cli import main

SESSION = """
[session]
SenderCompID = "ME"
TargetCompID = "IB"
SocketConnectHost = "127.0.0.1"
SocketConnectPort = 4000
FileStorePath = "{store}"
"""


def check(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, str, str]:
    code = main(["check-config", str(path)])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_valid_file_is_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "r.toml"
    path.write_text(SESSION.format(store=tmp_path / "s") + """
[metrics]
listen = "127.0.0.1:9500"
[logging]
event_log = "events.jsonl"
[admin]
socket = "/tmp/x-admin.sock"
[risk.global]
max_order_qty = 100
""")
    code, out, _ = check(capsys, path)
    assert code == 0
    assert out.startswith(f"OK: {path}")
    assert "metrics: http://127.0.0.1:9500/metrics" in out
    assert "admin socket: /tmp/x-admin.sock" in out
    assert not (tmp_path / "s").exists()  # nothing opened


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        ("[metrics]\nlisten = \"nowhere\"\n", "[metrics] listen: 'nowhere' is not HOST:PORT"),
        ("[logging]\nlevel = \"LOUD\"\n", "[logging] level: expected one of"),
        ("[admin]\nsock = \"x\"\n", "[admin] unknown key 'sock'"),
        ("[risk.global]\nmax_order_qtty = 1\n", "max_order_qtty"),
        ("[routing]\ndefault_session = \"other\"\n", "no session 'other'"),
        ("[gateway.clients.a]\ntoken_env = \"FIXROUTER_TEST_UNSET\"\n",
         "FIXROUTER_TEST_UNSET is not set"),
        ("[admin]\nsocket = \"/" + "x" * 120 + "\"\n", "longer than 107 bytes"),
        ("[sessionz]\n", "unknown key 'sessionz'"),
    ],
)
def test_an_invalid_file_exits_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tables: str, message: str
) -> None:
    path = tmp_path / "r.toml"
    path.write_text(SESSION.format(store=tmp_path / "s") + tables)
    code, out, err = check(capsys, path)
    assert code == 2 and out == ""
    assert message in err and str(path) in err


def test_tls_files_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "r.toml"
    path.write_text(SESSION.format(store=tmp_path / "s") +
                    f'SocketUseSSL = "Y"\nCertificationAuthoritiesFile = "{tmp_path}/no-ca.pem"\n')
    code, _, err = check(capsys, path)
    assert code == 2 and "CertificationAuthoritiesFile" in err and "'default'" in err
