"""`examples/simple_strategy.py`, run as its docstring says, against the engine and IB."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import ROOT, Stack

pytestmark = pytest.mark.integration


def test_the_example_strategy_trades_through_the_engine(stack: Stack) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "simple_strategy.py"), "--url", stack.url,
         "--name", "example"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (outcome,) = [line for line in result.stdout.splitlines() if line.startswith("outcome:")]
    assert outcome.endswith(" OK")
    assert "'buy-1': 'filled'" in outcome and "'lmt-2': 'canceled'" in outcome
    (working,) = [line for line in result.stdout.splitlines() if line.startswith("working")]
    assert "'lmt-2'" in working  # the replaced order, by its new id (MSFT may still fill)
