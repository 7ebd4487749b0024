"""`fixrouter sim` and `fixrouter sim-admin` as processes: start-up, errors, signals."""

from __future__ import annotations

import json
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fixrouter.sim.process import free_port

from .conftest import SimFactory

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def fixrouter(*args: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fixrouter.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_effective_settings_and_admin_socket(sim_factory: SimFactory) -> None:
    sim = sim_factory()
    cfg = (sim.data_dir / "sim.effective.cfg").read_text()
    assert f"SocketAcceptPort={sim.port}\n" in cfg
    assert "UseDataDictionary=Y\n" in cfg
    assert f"DataDictionary={REPO / 'spec' / 'fix42-ib.xml'}\n" in cfg
    assert f"FileStorePath={sim.data_dir}/store\n" in cfg
    assert "SenderCompID=IB\nTargetCompID=FIXROUTER\n" in cfg
    mode = (sim.data_dir / "admin.sock").stat().st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600


def test_sim_admin_command_line(sim_factory: SimFactory) -> None:
    sim = sim_factory()
    ok = fixrouter("sim-admin", "--data-dir", str(sim.data_dir), "status")
    assert ok.returncode == 0, ok.stderr
    reply = json.loads(ok.stdout)
    assert reply["ok"] and reply["sessions"][0]["session"] == "FIX.4.2:IB->FIXROUTER"
    refused = fixrouter("sim-admin", "--data-dir", str(sim.data_dir), "bust", "cl_ord_id=none")
    assert refused.returncode == 1 and not json.loads(refused.stdout)["ok"]
    raw = fixrouter("sim-admin", "--data-dir", str(sim.data_dir), "--json", '{"cmd": "drop"}')
    assert raw.returncode == 0, raw.stderr
    bad = fixrouter("sim-admin", "--data-dir", str(sim.data_dir), "news", "headline")
    assert bad.returncode == 2 and "key=value" in bad.stderr


def test_sim_admin_without_simulator(tmp_path: Path) -> None:
    r = fixrouter("sim-admin", "--data-dir", str(tmp_path), "status")
    assert r.returncode == 2 and "admin socket" in r.stderr


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[default]\nbehavour = 'fill'\n", "unknown key 'default.behavour'"),
        ("[symbols.AAPL]\nbehaviour = 'teleport'\n", "symbols.AAPL.behaviour = 'teleport'"),
    ],
)
def test_bad_scenario_exits_2_naming_the_key(tmp_path: Path, content: str, expected: str) -> None:
    scenario = tmp_path / "bad.toml"
    scenario.write_text(content)
    r = fixrouter("sim", "--port", str(free_port()), "--data-dir", str(tmp_path / "d"),
                  "--scenario", str(scenario))  # fmt: skip
    assert r.returncode == 2
    assert expected in r.stderr and "bad.toml" in r.stderr
    assert "listening" not in r.stdout


def test_missing_dictionary_exits_2(tmp_path: Path) -> None:
    r = fixrouter("sim", "--port", str(free_port()), "--data-dir", str(tmp_path / "d"),
                  "--dictionary", str(tmp_path / "nope.xml"))  # fmt: skip
    assert r.returncode == 2 and "data dictionary not found" in r.stderr


def test_port_in_use_exits_2(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = fixrouter("sim", "--port", str(port), "--data-dir", str(tmp_path / "d"))
    assert r.returncode == 2 and "could not start" in r.stderr


def test_sigint_exits_0(sim_factory: SimFactory) -> None:
    sim = sim_factory()
    sim.proc.send_signal(signal.SIGINT)
    assert sim.proc.wait(15) == 0


def test_sigterm_with_silent_peer_still_exits_0(sim_factory: SimFactory) -> None:
    sim = sim_factory()
    peer = sim.peer()
    peer.logon(reset=True)
    started = time.monotonic()
    sim.proc.send_signal(signal.SIGTERM)  # the peer never answers the simulator's Logout
    assert sim.proc.wait(20) == 0
    assert time.monotonic() - started < 15
    peer.wait_closed()
    assert any(m.type == "5" for m in peer.admin_seen), "the simulator logs out first"
