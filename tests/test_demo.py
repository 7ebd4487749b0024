import re
import subprocess
import sys


def test_demo_runs_every_case_and_leaves_no_process_behind() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "fixrouter.cli", "demo"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 of 6 cases as expected" in result.stdout
    for case in ("full fill", "partial fills", "cancel", "replace", "IB reject"):
        assert case in result.stdout
    port = re.search(r"simulator listening on 127\.0\.0\.1:(\d+)", result.stdout)
    assert port is not None
    leftover = subprocess.run(
        ["pgrep", "-f", f"sim --port {port.group(1)} "], capture_output=True, text=True,
        check=False,
    )
    assert leftover.stdout.split() == [], "the demo left its simulator running"
