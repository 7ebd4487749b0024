"""deploy/prometheus: the alert rules speak the metric contract and point at the runbook.

promtool itself (check config, check rules, the unit tests in alerts.test.yml) runs in
test_ci_checks.py through deploy/ci-checks.sh.
"""

from __future__ import annotations

import re

import pytest

from .kit import (
    ALERT_TESTS,
    ALERTS,
    RUNBOOK,
    SCRAPE_CONFIG,
    alert_rules,
    known_series,
    metric_names,
    runbook_anchors,
)

RULES = alert_rules()
NAMES = [r.name for r in RULES]

# What issue 6 asks the alerts to cover, and the alert that covers it.
REQUIRED = {
    "session down": "FixrouterSessionDown",
    "not logged on during trading hours": "FixrouterNotLoggedOnInTradingHours",
    "denial spike": "FixrouterDenialSpike",
    "reject spike": "FixrouterRejectSpike",
    "kill switch engaged": "FixrouterKillSwitchEngaged",
    "tick-to-wire p99 over budget": "FixrouterTickToWireP99High",
    "ack p99 over budget": "FixrouterOrderAckP99High",
    "slow-client disconnects": "FixrouterSlowClientDisconnects",
    "journal write errors": "FixrouterJournalWriteErrors",
    "MsgSeqNum too low": "FixrouterSeqNumTooLow",
}


def test_parsed_every_rule() -> None:
    assert len(RULES) == ALERTS.read_text().count("- alert:")
    assert len(set(NAMES)) == len(NAMES)


@pytest.mark.parametrize("what", sorted(REQUIRED))
def test_required_alert_exists(what: str) -> None:
    assert REQUIRED[what] in NAMES


@pytest.mark.parametrize("rule", RULES, ids=NAMES)
def test_expression_uses_only_documented_metrics(rule) -> None:  # type: ignore[no-untyped-def]
    unknown = sorted(n for n in metric_names(rule.expr) if not known_series(n))
    assert not unknown, f"{rule.name}: {unknown} are not in the metric contract"


@pytest.mark.parametrize("rule", RULES, ids=NAMES)
def test_labels_and_annotations(rule) -> None:  # type: ignore[no-untyped-def]
    assert rule.labels.get("severity") in ("critical", "warning")
    assert set(rule.annotations) == {"summary", "description", "runbook_url"}
    assert rule.annotations["summary"] and rule.annotations["description"]


@pytest.mark.parametrize("rule", RULES, ids=NAMES)
def test_runbook_url_points_at_a_runbook_section(rule) -> None:  # type: ignore[no-untyped-def]
    url = rule.annotations["runbook_url"]
    page, _, anchor = url.partition("#")
    assert page == "deploy/runbook.md"
    assert anchor == rule.name.lower()  # one section per alert, titled with its name
    assert anchor in runbook_anchors(), f"no '## {rule.name}' heading in {RUNBOOK.name}"


@pytest.mark.parametrize("rule", RULES, ids=NAMES)
def test_every_alert_has_a_firing_unit_test(rule) -> None:  # type: ignore[no-untyped-def]
    text = ALERT_TESTS.read_text()
    firing = re.compile(
        rf"alertname: {rule.name}\n\s+exp_alerts:\n\s+- exp_labels: \{{severity: "
        rf"{rule.labels['severity']},"
    )
    assert firing.search(text), f"alerts.test.yml never shows {rule.name} firing"


def test_unit_test_series_use_only_documented_metrics() -> None:
    series = re.findall(r"series: '([A-Za-z_:][A-Za-z0-9_:]*)\{", ALERT_TESTS.read_text())
    assert series
    assert sorted({s for s in series if not known_series(s)}) == []


def test_scrape_config_targets_the_engine_default_and_loads_the_rules() -> None:
    text = SCRAPE_CONFIG.read_text()
    assert re.search(r"job_name:\s*fixrouter\b", text)
    assert '"127.0.0.1:9464"' in text
    assert re.search(r"rule_files:\s*\n\s*- alerts\.yml", text)
