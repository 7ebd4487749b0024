"""deploy/grafana/fixrouter-dashboard.json: loads, is portable, speaks the metric contract."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .kit import DASHBOARD, HISTOGRAMS, base_metric, known_series, metric_names

DASH: dict[str, Any] = json.loads(DASHBOARD.read_text())
PANELS = [p for p in DASH["panels"] if p["type"] != "row"]


def _exprs() -> list[tuple[str, str]]:
    out = [(p["title"], t["expr"]) for p in PANELS for t in p.get("targets", [])]
    for var in DASH["templating"]["list"]:
        if var["type"] == "query":
            query = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
            m = re.fullmatch(r"label_values\((.*),\s*\w+\)", query)
            assert m, query
            out.append((f"${var['name']}", m.group(1)))
    return out


EXPRS = _exprs()


def test_datasource_is_a_variable() -> None:
    variables = {v["name"]: v for v in DASH["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for panel in PANELS:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]


def test_panel_ids_unique() -> None:
    ids = [p["id"] for p in DASH["panels"]]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(("where", "expr"), EXPRS, ids=[w for w, _ in EXPRS])
def test_expression_uses_only_documented_metrics(where: str, expr: str) -> None:
    unknown = sorted(n for n in metric_names(expr) if not known_series(n))
    assert not unknown, f"{where}: {unknown} are not in the metric contract"


def test_covers_what_the_operator_needs() -> None:
    used = {base_metric(n) for _, e in EXPRS for n in metric_names(e)}
    for metric in (
        "fixrouter_session_up", "fixrouter_session_state", "fixrouter_seqnum_next_outbound",
        "fixrouter_seqnum_next_inbound", "fixrouter_orders_received_total",
        "fixrouter_orders_accepted_total", "fixrouter_orders_denied_total",
        "fixrouter_orders_rejected_total", "fixrouter_fills_total", "fixrouter_open_orders",
        "fixrouter_throttle_queue_depth", "fixrouter_kill_switch_engaged",
    ):  # fmt: skip
        assert metric in used, metric
    denials = [e for _, e in EXPRS if "fixrouter_orders_denied_total" in e]
    assert any(re.search(r"by \(code\)", e) for e in denials), "no denials-by-code panel"


@pytest.mark.parametrize("histogram", sorted(HISTOGRAMS))
def test_latency_percentiles(histogram: str) -> None:
    exprs = [e for _, e in EXPRS if f"{histogram}_bucket" in e]
    for q in ("0.5", "0.99"):
        assert any(e.startswith(f"histogram_quantile({q},") for e in exprs), (histogram, q)


def test_expressions_parse(tmp_path: Path) -> None:
    """promtool parses each expression as a recording rule (Grafana variables filled in)."""
    if shutil.which("promtool") is None:
        pytest.skip("promtool not installed (apt-get install -y prometheus)")
    rules = []
    for i, (_, expr) in enumerate(EXPRS):
        concrete = (expr.replace("$__rate_interval", "1m")
                    .replace("$instance", ".*").replace("$session", ".*"))  # fmt: skip
        assert "$" not in concrete, concrete
        rules.append({"record": f"dashboard:expr_{i}", "expr": concrete})
    path = tmp_path / "dashboard-rules.yml"
    path.write_text(json.dumps({"groups": [{"name": "dashboard", "rules": rules}]}))
    done = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
