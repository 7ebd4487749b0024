"""deploy/ci-checks.sh: passes on the kit as shipped, fails on a broken kit, says what it skips."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .kit import DEPLOY

SCRIPT = DEPLOY / "ci-checks.sh"

needs_promtool = pytest.mark.skipif(
    shutil.which("promtool") is None,
    reason="promtool not installed (Debian: apt-get install -y prometheus); "
    "the Prometheus checks of deploy/ci-checks.sh cannot run",
)


def _run(script: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    done = subprocess.run(["bash", str(script), *args], capture_output=True, text=True,
                          timeout=120, env=env)  # fmt: skip
    return done.returncode, done.stdout + done.stderr


@needs_promtool
def test_kit_passes() -> None:
    code, out = _run(SCRIPT)
    assert code == 0, out
    for check in ("promtool check config", "promtool check rules", "promtool test rules"):
        assert f"==> {check}" in out and f"FAILED: {check}" not in out, out
    if shutil.which("systemd-analyze"):
        assert "Overall exposure level for fixrouter.service" in out, out


@needs_promtool
def test_a_broken_alert_test_fails_the_script(tmp_path: Path) -> None:
    kit = tmp_path / "deploy"
    shutil.copytree(DEPLOY, kit)
    tests = kit / "prometheus" / "alerts.test.yml"
    tests.write_text(tests.read_text().replace("severity: critical", "severity: info", 1))
    code, out = _run(kit / "ci-checks.sh")
    assert code == 1, out
    assert "FAILED:  promtool test rules" in out, out


def test_missing_tools_are_reported_and_fail_only_in_strict_mode(tmp_path: Path) -> None:
    """With only the basic tools on PATH, every promtool/systemd check is a named skip."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", "sed", "grep", "mktemp", "rm", "head", "tail"):
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    # The real interpreter, not a shim that needs the rest of PATH.
    (bin_dir / "python3").symlink_to(os.path.realpath(sys.executable))
    env = {**os.environ, "PATH": str(bin_dir)}
    code, out = _run(SCRIPT, env=env)
    assert code == 0, out
    skipped = "promtool test rules: SKIPPED (promtool not installed: apt-get install -y prometheus)"
    assert skipped in out
    assert "systemd-analyze verify: SKIPPED" in out
    code, out = _run(SCRIPT, "--strict", env=env)
    assert code == 1, out
    assert "--strict: checks were skipped" in out
