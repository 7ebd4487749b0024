"""CI smoke run of `fixrouter bench`: a few seconds, `--json`, never a speed assertion.

CI machines are noisy, so this checks only that the bench runs end to end, that its JSON
is well-formed (every figure the table is made of is there, and numeric), and that every
order was acknowledged. The figures themselves are tests/bench/README.md's business.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from typing import Any

import pytest

QUANTILES = ("n", "p50", "p90", "p99", "p999", "max")
TIMEOUT = 180.0


def _bench(*extra: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "fixrouter.cli", "bench", "--json", "--orders", "300",
         "--rate", "1000", "--duration", "1", *extra],
        capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _percentiles(figures: dict[str, Any]) -> None:
    assert set(QUANTILES) <= figures.keys(), figures
    assert figures["n"] > 0
    assert all(isinstance(figures[q], int | float) for q in QUANTILES)
    assert figures["p50"] <= figures["p99"] <= figures["max"]


def _acknowledged(run: dict[str, Any], sink: bool = False) -> None:
    assert run["sent"] > 0
    assert run["failed"] == 0
    assert run["rejects_from_initiator"] == 0
    if sink:
        assert run["acceptor_received"] == run["sent"]
    else:
        assert run["answered"] == run["sent"]


def test_bench_json_is_well_formed_and_every_order_was_acknowledged() -> None:
    result = _bench("--no-late", "--memory-orders", "3000", "--memory-warmup", "1000")
    assert result["all_acknowledged"] is True, result["problems"]
    assert result["problems"] == []
    ours = result["fixrouter"]
    paced, acked, one_way = ours["paced"], ours["acked"], ours["one_way"]
    assert paced["sent"] == 300
    for run in (paced, acked):
        _acknowledged(run)
    _acknowledged(one_way, sink=True)
    assert one_way["answered"] == one_way["sent"]  # each one `accepted` by the engine
    _percentiles(paced["tick_to_wire_us"])
    _percentiles(paced["rtt_us"])
    _percentiles(one_way["tick_to_wire_us"])
    for run in (acked, one_way):
        assert run["orders_per_s"] > 0
        assert run["engine_cpu"] >= 0
        assert 0 <= run["engine_idle"] <= 1  # polling turns that found nothing, or asleep
    resources = result["resources"]
    assert resources["rss_start_mb"] > 0 and resources["rss_end_mb"] > 0
    assert resources["orders"] >= paced["sent"] + acked["sent"] + one_way["sent"]
    assert isinstance(result["acceptor_check"]["statement"], str)
    assert result["quickfix"] is None
    memory = result["memory"]  # the memory run: orders that finish (issue 7)
    assert (memory["orders"], memory["warmup_orders"]) == (3000, 1000)
    for run in (memory["warmup"], memory["run"]):
        assert run["failed"] == 0 and run["answered"] == run["sent"]
        assert run["orders_per_s"] > 0
    for key in ("rss_start_mb", "rss_after_warmup_mb", "rss_end_mb", "rss_peak_mb",
                "rss_growth_mb", "rss_growth_per_1m_orders_mb"):
        assert isinstance(memory[key], int | float), key
    assert memory["rss_start_mb"] > 0 and memory["rss_peak_mb"] >= memory["rss_end_mb"]
    assert memory["rss_curve"] and all(len(point) == 2 for point in memory["rss_curve"])
    held = memory["held_at_end"]
    # Structure, not speed: every order finished, so the engine holds none of them.
    assert held["live_orders"] == 0 and held["risk_records"] == 0
    assert held["retired_ids"] == 4000


@pytest.mark.skipif(importlib.util.find_spec("quickfix") is None,
                    reason="the quickfix binding is not installed")
def test_bench_with_the_quickfix_peer_acknowledges_every_order_on_both_sides() -> None:
    result = _bench("--no-late", "--peer", "quickfix")
    assert result["all_acknowledged"] is True, result["problems"]
    theirs = result["quickfix"]
    _acknowledged(theirs["paced"])
    _acknowledged(theirs["acked"])
    _acknowledged(theirs["one_way"], sink=True)
    _percentiles(theirs["paced"]["send_path_us"])
    _percentiles(theirs["paced"]["rtt_us"])
    assert set(result["ratios"]) >= {"acked_throughput", "one_way_throughput"}
