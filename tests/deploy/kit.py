"""What the deploy tests share: paths, the metric contract, and small parsers.

The metric names are the contract between the metrics module (issue 6 item 1) and the
alert rules and dashboard (item 4). They are listed here once, exactly as deploy/README.md
documents them, and every expression in deploy/ may use only these (plus `up`, which
Prometheus itself writes for each scrape, and `process_start_time_seconds`, which the
engine's process collector exports).

The parsers are deliberately small: the repository has no YAML library, and the files they
read are ours. `unit_file` reads systemd's ini dialect (repeated keys allowed);
`alert_rules` reads the subset of YAML alerts.yml uses; `metric_names` pulls the metric
names out of a PromQL expression.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
UNIT = DEPLOY / "systemd" / "fixrouter.service"
CONTAINERFILE = DEPLOY / "container" / "Containerfile"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
ALERT_TESTS = DEPLOY / "prometheus" / "alerts.test.yml"
SCRAPE_CONFIG = DEPLOY / "prometheus" / "prometheus.yml"
DASHBOARD = DEPLOY / "grafana" / "fixrouter-dashboard.json"
RUNBOOK = DEPLOY / "runbook.md"
README = DEPLOY / "README.md"
ROUTER_TOML = DEPLOY / "config" / "router.toml"

COUNTERS = frozenset({
    "fixrouter_logons_total",
    "fixrouter_disconnects_total",
    "fixrouter_reconnects_total",
    "fixrouter_resend_requests_total",
    "fixrouter_gap_fills_total",
    "fixrouter_orders_received_total",
    "fixrouter_orders_accepted_total",
    "fixrouter_orders_denied_total",
    "fixrouter_orders_rejected_total",
    "fixrouter_execution_reports_total",
    "fixrouter_fills_total",
    "fixrouter_filled_quantity_total",
    "fixrouter_slow_client_disconnects_total",
    "fixrouter_journal_write_errors_total",
    "fixrouter_gc_collections_total",
    "fixrouter_gc_freezes_total",
    "fixrouter_failovers_total",
    "fixrouter_cancels_queued_total",
    "fixrouter_session_refusals_total",
    "fixrouter_order_anomalies_total",
    "fixrouter_request_errors_total",
    "fixrouter_requests_not_sent_total",
    "fixrouter_events_dropped_total",
    "fixrouter_gateway_connections_total",
    "fixrouter_gateway_lines_total",
    "fixrouter_news_messages_total",
    "fixrouter_order_status_requests_total",
})  # fmt: skip
GAUGES = frozenset({
    "fixrouter_session_up",
    "fixrouter_session_state",
    "fixrouter_session_in_trading_hours",
    "fixrouter_seqnum_next_outbound",
    "fixrouter_seqnum_next_inbound",
    "fixrouter_open_orders",
    "fixrouter_position",
    "fixrouter_throttle_queue_depth",
    "fixrouter_kill_switch_engaged",
    "fixrouter_strategies_connected",
})  # fmt: skip
HISTOGRAMS = frozenset({
    "fixrouter_heartbeat_rtt_seconds",
    "fixrouter_tick_to_wire_seconds",
    "fixrouter_order_ack_seconds",
    "fixrouter_exec_report_to_strategy_seconds",
    "fixrouter_journal_append_seconds",
    "fixrouter_gc_pause_seconds",
})  # fmt: skip
DOCUMENTED = COUNTERS | GAUGES | HISTOGRAMS
PROMETHEUS_OWN = frozenset({"up"})
PROCESS_OWN = frozenset({"process_start_time_seconds"})
"""prometheus-client's process collector, on the engine's /metrics too: the order-book
alerts read the start time, because the recovery's counts exist from the first scrape."""


def known_series(name: str) -> bool:
    """A series name the engine (or Prometheus) exports under the contract."""
    if name in COUNTERS or name in GAUGES or name in PROMETHEUS_OWN or name in PROCESS_OWN:
        return True
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name.removesuffix(suffix) in HISTOGRAMS:
            return True
    return False


def base_metric(name: str) -> str:
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name.removesuffix(suffix) in HISTOGRAMS:
            return name.removesuffix(suffix)
    return name


# ---- PromQL ------------------------------------------------------------------------------

_PROMQL_WORDS = frozenset({
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "offset", "bool", "inf", "nan",
})  # fmt: skip
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_BRACES = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_OFFSET = re.compile(r"\boffset\s+-?(?:\d+(?:ms|[smhdwy]))+")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:e[+-]?\d+)?")
_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects (Grafana variables allowed in it).

    Raises:
        AssertionError: the expression selects no metric at all.
    """
    text = _STRING.sub('""', expr)
    text = re.sub(r"\$\{?\w+\}?", "x", text)  # $__rate_interval, ${datasource}
    text = _BRACES.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    text = _OFFSET.sub(" ", text)
    text = _NUMBER.sub(" ", text)
    names = set()
    for m in _IDENT.finditer(text):
        word = m.group()
        following = text[m.end() :].lstrip()
        if following.startswith("("):  # a function
            continue
        if word.lower() in _PROMQL_WORDS:
            continue
        names.add(word)
    # Selectors written only as {__name__=...} are not used in deploy/.
    assert names, f"no metric selected by {expr!r}"
    return names


# ---- systemd unit ------------------------------------------------------------------------


def unit_file(path: Path = UNIT) -> dict[str, dict[str, list[str]]]:
    """section -> key -> every value, in order (systemd allows repeated keys)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"{path}: key outside a section: {line!r}"
        key, sep, value = line.partition("=")
        assert sep, f"{path}: not key=value: {line!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


# ---- alerts.yml --------------------------------------------------------------------------


@dataclass
class AlertRule:
    name: str
    expr: str = ""
    for_: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


def _scalar(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def alert_rules(path: Path = ALERTS) -> list[AlertRule]:
    """The alerting rules of alerts.yml: plain and quoted scalars, `>-` folded blocks.

    Raises:
        AssertionError: a construct this reader does not handle.
    """
    lines = path.read_text().splitlines()
    rules: list[AlertRule] = []
    rule: AlertRule | None = None
    where = ""  # "", "labels" or "annotations"
    where_indent = 0
    i = 0
    while i < len(lines):
        raw = lines[i]
        i += 1
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(raw) - len(raw.lstrip())
        text = stripped.removeprefix("- ")
        key, sep, value = text.partition(":")
        value = value.strip()
        # Read a folded block (`>-`): the following more-indented lines joined by spaces.
        if value in (">-", ">", "|", "|-"):
            assert value.startswith(">"), f"{path}:{i}: literal blocks not supported"
            block = []
            while i < len(lines) and (
                not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent
            ):
                block.append(lines[i].strip())
                i += 1
            value = " ".join(b for b in block if b)
        if key == "alert" and sep:
            rule = AlertRule(_scalar(value))
            rules.append(rule)
            where = ""
            continue
        if key == "record" and sep:
            rule, where = None, ""
            continue
        if rule is None:
            continue
        if where and indent <= where_indent:
            where = ""
        if where:
            getattr(rule, where)[key] = _scalar(value)
        elif key == "expr":
            rule.expr = _scalar(value)
        elif key == "for":
            rule.for_ = _scalar(value)
        elif key in ("labels", "annotations") and not value:
            where, where_indent = key, indent
    return rules


# ---- runbook -----------------------------------------------------------------------------


def github_anchor(heading: str) -> str:
    """The anchor GitHub (and most Markdown renderers) give a heading."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def runbook_anchors(path: Path = RUNBOOK) -> set[str]:
    anchors = set()
    in_code = False
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if not in_code and line.startswith("#"):
            anchors.add(github_anchor(line.lstrip("#")))
    return anchors
