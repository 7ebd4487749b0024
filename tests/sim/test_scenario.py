from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from fixrouter.errors import ConfigError
from fixrouter.sim.scenario import (
    Behaviour,
    Rule,
    Scenario,
    TrickKind,
    Trigger,
    load_scenario,
    parse_scenario,
)

REPO = Path(__file__).resolve().parents[2]


def parse(text: str) -> Scenario:
    return parse_scenario(tomllib.loads(text), source="test.toml")


def test_empty_scenario_is_all_defaults() -> None:
    s = parse("")
    assert s.default == Rule()
    assert s.rule_for("ANY").behaviour is Behaviour.FILL
    assert s.tricks == ()


def test_symbol_rule_overrides_only_its_keys() -> None:
    s = parse(
        """
        [default]
        reference_price = "50"
        interval_ms = 10
        [symbols.AAPL]
        behaviour = "partial"
        partials = 4
        """
    )
    aapl = s.rule_for("AAPL")
    assert aapl.behaviour is Behaviour.PARTIAL
    assert aapl.partials == 4
    assert aapl.reference_price == Decimal("50")  # inherited from [default]
    assert aapl.interval_ms == 10
    assert s.rule_for("MSFT") == s.default


def test_off_disables_limits() -> None:
    s = parse('[default]\ncollar_pct = "off"\nreject_qty_above = 500\n')
    assert s.default.collar_pct is None
    assert s.default.reject_qty_above == Decimal(500)


def test_tricks() -> None:
    s = parse(
        """
        [[tricks]]
        kind = "bust"
        on = "fill"
        symbol = "BUST"
        delay_ms = 20
        [[tricks]]
        kind = "news"
        on = "logon"
        headline = "Hello"
        times = 0
        """
    )
    bust, news = s.tricks
    assert (bust.kind, bust.on, bust.symbol, bust.delay_ms, bust.times) == (
        TrickKind.BUST, Trigger.FILL, "BUST", 20, 1,
    )  # fmt: skip
    assert (news.kind, news.headline, news.times) == (TrickKind.NEWS, "Hello", 0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("behavior = 'fill'", "unknown key 'behavior'"),
        ("[default]\nbehavour = 'fill'", "unknown key 'default.behavour'"),
        ("[symbols.AAPL]\npartial = 3", "unknown key 'symbols.AAPL.partial'"),
        ("[[tricks]]\nkind = 'news'\non = 'logon'\nwhen = 1", "unknown key 'tricks[0].when'"),
        ("[default]\nbehaviour = 'explode'", "default.behaviour = 'explode' is not one of"),
        ("[default]\npartials = 0", "default.partials must be an integer >= 1"),
        ("[default]\nreference_price = 'abc'", "default.reference_price is not a number"),
        ("[default]\nreference_price = -1", "default.reference_price must be positive"),
        ("[[tricks]]\nkind = 'bust'\non = 'new'", "cannot trigger 'bust'"),
        ("[[tricks]]\nkind = 'unsolicited_cancel'\non = 'logon'", "cannot trigger"),
        ("[[tricks]]\nkind = 'news'", "needs key 'on'"),
        ("[[tricks]]\nkind = 'bust'\non = 'fill'\nheadline = 'x'", "headline applies only"),
        ("[[tricks]]\nkind = 'drop'\non = 'new'\nprice = 1", "qty and price apply only"),
        ("symbols = 3", "symbols must be a table"),
    ],
)
def test_errors_name_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=r"test\.toml") as e:
        parse(text)
    assert message in str(e.value)


def test_load_reports_bad_toml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[default\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_scenario(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        load_scenario(tmp_path / "missing.toml")


@pytest.mark.parametrize("path", sorted((REPO / "fix" / "scenarios").glob("*.toml")))
def test_shipped_examples_load(path: Path) -> None:
    load_scenario(path)
