"""`fixrouter demo` as a user runs it: every case as expected, nothing left behind."""

import re
import subprocess
import sys
from pathlib import Path

from fixrouter.demo import CASES

CASE_NAMES = ("full fill", "partial fills", "cancel", "replace", "IB reject", "risk denial",
              "bad request", "second session", "cancel follows its session")
# Issue 8: desk2's orders reached the simulator on desk2's session (CompID DESK2), and only
# there; the cancel followed its order without the strategy naming a session.
SESSION_ROWS = {"second session": "filled 100 @ 190, D on DESK2",
                "cancel follows its session": "canceled, D+F on DESK2"}


def test_demo_runs_every_case_and_leaves_no_process_behind() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "fixrouter.cli", "demo"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert f"{len(CASES)} of {len(CASES)} cases as expected" in out
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("----")) + 1
    rows = lines[start:start + len(CASES)]
    assert len(rows) == len(CASES) and all(row.rstrip().endswith("ok") for row in rows)
    for name in CASE_NAMES:
        assert any(row.startswith(name) for row in rows), name
    for name, observed in SESSION_ROWS.items():
        row = next(row for row in rows if row.startswith(name))
        assert re.split(r"\s{2,}", row.strip())[1:] == [observed, observed, "ok"], row
    # One simulator process with both CompIDs; an engine holding both sessions.
    assert re.search(r"simulator listening on 127\.0\.0\.1:\d+ \(sessions DESK1, DESK2\)", out)
    # Through the engine, not around it: the strategy connected to the engine's gateway.
    assert re.search(
        r"engine \(pid \d+\) logged on as desk1, desk2; strategies connect to tcp://", out)
    workdir = re.search(r"working directory (/\S+)\)", out)
    sim_port = re.search(r"simulator listening on 127\.0\.0\.1:(\d+)", out)
    engine_pid = re.search(r"engine \(pid (\d+)\)", out)
    assert workdir and sim_port and engine_pid
    assert not Path(workdir.group(1)).exists(), "the demo left its directory behind"
    leftover = subprocess.run(["pgrep", "-f", workdir.group(1)], capture_output=True,
                              text=True, check=False)
    assert leftover.stdout.split() == [], "the demo left a process running"
    assert not _runs_in(engine_pid.group(1), workdir.group(1)), "the engine is still running"


def _runs_in(pid: str, workdir: str) -> bool:
    """Whether `pid` is still our engine (a pid may have been reused by then)."""
    try:
        return workdir.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def test_a_failed_case_is_reported_and_fails_the_demo() -> None:
    from fixrouter import demo

    case = demo.Case("x", "expected", demo._orders_after)
    table = demo._table([(case, "something else", False)])
    assert "something else" in table and table.splitlines()[-1].endswith("FAIL")
