"""kill -9 a child process in the middle of its appends (the crash tests' shared step).

Imported as `killing`: pytest puts `tests/` on the path for the test packages below it.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path


def kill_while_writing(argv: list[str], report: Path, rng: random.Random,
                       env: dict[str, str]) -> None:
    """Run `argv` with its stdout in `report`; once it has reported anything (it is
    appending), let it go on for a random 0-150 ms, then SIGKILL it. Returns once it is
    reaped, having checked that the SIGKILL is what ended it."""
    with report.open("w") as out:
        child = subprocess.Popen(argv, stdout=out, env=env)
    try:
        deadline = time.monotonic() + 30
        while report.stat().st_size == 0:
            assert child.poll() is None, "child died on its own"
            assert time.monotonic() < deadline, "child never started appending"
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.15))
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
