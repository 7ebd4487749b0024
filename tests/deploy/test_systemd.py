"""deploy/systemd/fixrouter.service: what the unit promises, checked against the engine.

`systemd-analyze verify` and `security` run in test_ci_checks.py. Here: the keys the
deployment depends on, their consistency with the engine (exit codes, timeouts, paths), and
the real engine run under the unit's seccomp filters (sandbox-exec.py), because a unit that
verifies can still kill the process it starts.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fixrouter.session.config import SessionConfig

from .kit import DEPLOY, ROUTER_TOML, UNIT, unit_file

SANDBOX = DEPLOY / "systemd" / "sandbox-exec.py"
SYSTEM_PYTHON = "/usr/bin/python3"


def _service() -> dict[str, list[str]]:
    return unit_file()["Service"]


def _one(key: str) -> str:
    values = _service()[key]
    assert len(values) == 1, f"{key} set {len(values)} times"
    return values[0]


def test_runs_the_engine_from_the_venv_with_the_etc_config() -> None:
    assert _one("ExecStart") == (
        "/opt/fixrouter/venv/bin/fixrouter run --config /etc/fixrouter/router.toml"
    )
    assert _one("Type") in ("simple", "exec")
    assert _one("ExecReload") == "/bin/kill -HUP $MAINPID"


def test_runs_as_a_dedicated_unprivileged_user() -> None:
    service = _service()
    assert _one("User") == "fixrouter"
    assert _one("Group") == "fixrouter"
    assert "DynamicUser" not in service  # journals must keep a stable owner
    sysusers = (DEPLOY / "systemd" / "fixrouter.sysusers").read_text()
    assert any(line.split()[:2] == ["u", "fixrouter"] for line in sysusers.splitlines())


HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes",
    "ProtectControlGroups": "yes",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    "CapabilityBoundingSet": "",
    "MemoryDenyWriteExecute": "yes",
    "RestrictNamespaces": "yes",
    "RestrictSUIDSGID": "yes",
    "LockPersonality": "yes",
    "SystemCallArchitectures": "native",
}


@pytest.mark.parametrize("key", sorted(HARDENING))
def test_hardening(key: str) -> None:
    assert _one(key) == HARDENING[key]


def test_syscall_filter_starts_from_system_service() -> None:
    filters = _service()["SystemCallFilter"]
    assert filters[0] == "@system-service"
    assert all(f.startswith("~") for f in filters[1:])


def test_restart_policy_matches_the_engine_exit_codes(tmp_path: Path) -> None:
    assert _one("Restart") == "on-failure"
    assert float(_one("RestartSec")) > 0
    assert {"StartLimitIntervalSec", "StartLimitBurst"} <= set(unit_file()["Unit"])
    # A config error exits 2, and restarting cannot fix it.
    assert "2" in _one("RestartPreventExitStatus").split()
    broken = tmp_path / "router.toml"
    broken.write_text("[session]\nHeartBtint = 30\n")
    done = subprocess.run(
        [sys.executable, "-m", "fixrouter.cli", "run", "--config", str(broken)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr


def test_stop_timeout_outlasts_the_logout() -> None:
    assert _one("KillSignal") == "SIGTERM"
    defaults = {f.name: f.default for f in dataclasses.fields(SessionConfig)}
    logout_timeout = defaults["logout_timeout"]
    assert isinstance(logout_timeout, float)
    # Room for a LogoutTimeout raised well above its default, and the final journal sync.
    assert float(_one("TimeoutStopSec")) >= 5 * logout_timeout


def test_resources() -> None:
    assert _one("CPUAffinity").split()
    assert int(_one("LimitNOFILE")) >= 4096


def test_directories_match_the_example_config() -> None:
    assert _one("StateDirectory") == "fixrouter"
    assert _one("RuntimeDirectory") == "fixrouter"
    assert _one("RuntimeDirectoryMode") == "0750"
    assert _one("LogsDirectory") == "fixrouter"
    assert _one("WorkingDirectory") == "/var/lib/fixrouter"
    text = ROUTER_TOML.read_text()
    # ProtectSystem=strict: the journal must live in the state directory, the gateway's
    # Unix socket in the runtime directory, or the engine cannot write them.
    assert 'FileStorePath = "/var/lib/fixrouter/' in text
    assert "unix:///run/fixrouter/" in text


# ---- the engine under the unit's seccomp filters --------------------------------------------


def _sandbox_available() -> str | None:
    if not sys.platform.startswith("linux"):
        return "seccomp is Linux only"
    if not os.path.exists(SYSTEM_PYTHON) or shutil.which("systemd-analyze") is None:
        return "needs /usr/bin/python3 and systemd-analyze (apt-get install -y systemd)"
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import seccomp"], capture_output=True)
    if probe.returncode != 0:
        return "libseccomp's Python binding is missing: apt-get install -y python3-seccomp"
    return None


needs_sandbox = pytest.mark.skipif(_sandbox_available() is not None,
                                   reason=str(_sandbox_available()))  # fmt: skip


def _sandboxed(*command: str) -> list[str]:
    return [SYSTEM_PYTHON, str(SANDBOX), str(UNIT), "--", *command]


@needs_sandbox
def test_sandbox_refuses_what_the_unit_forbids() -> None:
    """The harness really applies the filters: otherwise the smoke test proves nothing."""
    probe = """
import mmap, os, socket
def refused(f):
    try:
        f()
    except OSError:
        return True
    return False
print(refused(lambda: mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)))
print(refused(lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW)))
print(refused(lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW)))
print(refused(lambda: os.sched_setaffinity(0, {0})))
print(refused(lambda: socket.socket(socket.AF_INET6, socket.SOCK_STREAM).close()))
"""
    done = subprocess.run(_sandboxed(sys.executable, "-c", probe), capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    # W+X memory, netlink, packet sockets, @resources refused; IPv6 TCP allowed.
    assert done.stdout.split() == ["True", "True", "True", "True", "False"]


@needs_sandbox
@pytest.mark.skipif(importlib.util.find_spec("quickfix") is None,
                    reason="the simulator needs the sim extra (QuickFIX)")  # fmt: skip
def test_engine_trades_and_logs_out_under_the_unit_filters(tmp_path: Path) -> None:
    from fixrouter.sim.process import SimulatorProcess

    with SimulatorProcess(tmp_path / "sim") as sim:
        config = tmp_path / "router.toml"
        config.write_text(
            "[session]\n"
            'SenderCompID = "FIXROUTER"\nTargetCompID = "IB"\n'
            f'SocketConnectHost = "127.0.0.1"\nSocketConnectPort = {sim.port}\n'
            f'FileStorePath = "{tmp_path / "store"}"\nDurability = "fsync"\n'
            # A busy-polling loop (and its sched_getaffinity at start) under the filters.
            "[engine]\nbusy_poll = true\n"
        )
        feed = tmp_path / "feed.txt"
        feed.write_text("".join(
            f"35=D|11=SBX{i}|1=U1234567|21=2|55=AAPL|54=1|38=100|40=2|44=100|59=0|"
            f"60=20240101-00:00:00.000|100=SMART|15=USD|167=STK\n"
            for i in range(5)
        ))  # fmt: skip
        log = tmp_path / "router.log"
        engine = shutil.which("fixrouter", path=str(Path(sys.executable).parent))
        assert engine is not None
        with log.open("wb") as err:
            proc = subprocess.Popen(
                _sandboxed(engine, "run", "--config", str(config), "--test-feed", str(feed)),
                stdout=subprocess.DEVNULL, stderr=err, cwd=tmp_path,
            )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while "test feed: done" not in log.read_text():
                assert proc.poll() is None, f"engine died under the sandbox:\n{log.read_text()}"
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
            # The simulator filled all five: wait for its event log to say so.
            events = sim.data_dir / "sim-events.jsonl"
            while events.read_text().count('"executed"') < 5:
                assert time.monotonic() < deadline, events.read_text()
                time.sleep(0.05)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(30) == 0, log.read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert "Logout answered" in log.read_text()
        assert "Operation not permitted" not in log.read_text()
