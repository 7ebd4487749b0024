"""`[risk]` config: defaults, every error names its table and key, scope precedence."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from fixrouter.errors import ConfigError
from fixrouter.requests import OrderType, SecurityType, TimeInForce
from fixrouter.risk import MissingReference, RiskConfig, ThrottleMode
from fixrouter.risk.limits import DEFAULT_LIMITS


def test_empty_section_is_every_default() -> None:
    tables: tuple[dict[str, Any] | None, ...] = (None, {})
    for table in tables:
        config = RiskConfig.from_toml_table(table)
        assert config.global_limits == DEFAULT_LIMITS
        assert config.limits_for("U1", "s", "AAPL") == DEFAULT_LIMITS


def test_documented_defaults_are_conservative() -> None:
    d = DEFAULT_LIMITS
    assert d.max_order_qty == 1000
    assert d.max_order_notional == 100_000
    assert d.price_collar_pct == 5
    assert d.missing_reference is MissingReference.DENY
    assert d.allowed_security_types == frozenset({SecurityType.STK, SecurityType.CS})
    assert d.max_open_orders == 500 and d.max_open_orders_symbol_side == 10
    assert d.duplicate_window == 0.1
    config = RiskConfig.from_toml_table({})
    assert config.throttle.mode is ThrottleMode.DENY
    assert config.kill_switch.cancel_all


def test_values_are_converted() -> None:
    config = RiskConfig.from_toml_table({
        "global": {
            "max_order_qty": 500, "tick_size": 0.01, "max_order_notional": "250000.50",
            "allowed_order_types": ["limit", "stop_limit"], "allowed_tifs": ["day"],
            "allowed_security_types": ["STK", "OPT"], "duplicate_window_ms": 250,
            "missing_reference": "warn", "max_position": "off",
            "restricted_symbols": ["GME"],
        },
        "throttle": {"rate": 5, "burst": 3, "mode": "queue", "queue_depth": 7,
                     "sessions": {"desk2": {"rate": 50}}},
        "kill_switch": {"max_denials": 3, "window_seconds": 2},
    })
    g = config.global_limits
    assert g.max_order_qty == D(500) and g.tick_size == D("0.01")  # exactly, not binary
    assert g.max_order_notional == D("250000.50")
    assert g.allowed_order_types == frozenset({OrderType.LIMIT, OrderType.STOP_LIMIT})
    assert g.allowed_tifs == frozenset({TimeInForce.DAY})
    # CS is IB's alias for STK: listing one allows both
    assert g.allowed_security_types == frozenset(
        {SecurityType.STK, SecurityType.CS, SecurityType.OPT})
    assert g.duplicate_window == 0.25
    assert g.missing_reference is MissingReference.WARN
    assert g.max_position is None
    assert config.throttle.rate == 5 and config.throttle.mode is ThrottleMode.QUEUE
    desk2 = config.throttle_for("desk2")
    assert (desk2.rate, desk2.burst, desk2.queue_depth) == (50, 3, 7)  # overrides on top
    assert config.throttle_for("other") is config.throttle
    assert config.kill_switch.max_denials == 3 and config.kill_switch.window_seconds == 2


@pytest.mark.parametrize(("table", "message"), [
    ({"globl": {}}, "unknown key 'globl' in [risk] (did you mean 'global'?)"),
    ({"global": {"max_order_qtty": 1}},
     "unknown key 'max_order_qtty' in [risk.global] (did you mean 'max_order_qty'?)"),
    ({"global": {"max_order_qty": 0}},
     "[risk.global] max_order_qty: expected a number above 0 or \"off\", got integer 0"),
    ({"global": {"max_order_qty": True}}, "[risk.global] max_order_qty: expected"),
    ({"global": {"max_order_qty": "lots"}}, "got string 'lots'"),
    ({"global": {"price_collar_pct": 150}}, "[risk.global] price_collar_pct: expected a "
                                            "percentage above 0 and at most 100"),
    ({"global": {"allowed_tifs": ["day", "forever"]}}, "[risk.global] allowed_tifs:"),
    ({"global": {"missing_reference": "maybe"}},
     "[risk.global] missing_reference: expected \"deny\" or \"warn\""),
    ({"accounts": {"U1": {"allowed_accounts": ["U1"]}}},
     "[risk.accounts.U1] allowed_accounts: not meaningful in a [risk.accounts.*] table"),
    ({"symbols": {"AAPL": {"restricted_symbols": ["AAPL"]}}},
     "[risk.symbols.AAPL] restricted_symbols: not meaningful"),
    ({"strategies": {"momo": {"max_positon": 1}}},
     "unknown key 'max_positon' in [risk.strategies.momo] (did you mean 'max_position'?)"),
    ({"strategies": {"momo": 5}}, "[risk.strategies.momo] must be a table"),
    ({"throttle": {"rate": 0}}, "[risk.throttle] rate: expected a number of messages"),
    ({"throttle": {"mode": "drop"}}, "[risk.throttle] mode: expected \"deny\" or \"queue\""),
    ({"throttle": {"sessions": {"d": {"burts": 1}}}},
     "unknown key 'burts' in [risk.throttle.sessions.d] (did you mean 'burst'?)"),
    ({"kill_switch": {"window_seconds": 0}}, "[risk.kill_switch] window_seconds:"),
    ({"global": {"order_efficiency_warn": 30, "order_efficiency_block": 20}},
     "order_efficiency_warn (30) is above order_efficiency_block (20)"),
    ({"global": {"order_efficiency_warn": 30}},  # above the default block of 20
     "order_efficiency_warn (30) is above order_efficiency_block (20)"),
])
def test_errors_name_the_table_and_key(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        RiskConfig.from_toml_table(table)
    assert message in str(info.value)


# ---- scope precedence: symbol > strategy > account > global > default ------------------

LAYERED: dict[str, Any] = {
    "global": {"max_order_qty": 100, "max_position": 5000, "restricted_symbols": ["GME"],
               "allowed_destinations": ["SMART"]},
    "accounts": {"U1": {"max_order_qty": 200, "max_open_orders": 7,
                        "restricted_symbols": ["AMC"]}},
    "strategies": {"momo": {"max_order_qty": 300, "max_open_orders": 8,
                            "restricted_symbols": ["BBBY"], "allowed_destinations": "off"}},
    "symbols": {"AAPL": {"max_order_qty": 400}},
}


@pytest.mark.parametrize(("account", "strategy", "symbol", "qty"), [
    ("U9", "other", "MSFT", 100),  # global
    ("U1", "other", "MSFT", 200),  # account over global
    ("U1", "momo", "MSFT", 300),   # strategy over account
    ("U9", "momo", "MSFT", 300),
    ("U1", "momo", "AAPL", 400),   # symbol over strategy
    ("U9", "other", "AAPL", 400),
])
def test_most_specific_scope_wins(account: str, strategy: str, symbol: str, qty: int) -> None:
    config = RiskConfig.from_toml_table(LAYERED)
    assert config.limits_for(account, strategy, symbol).max_order_qty == qty


def test_each_setting_resolves_on_its_own() -> None:
    lim = RiskConfig.from_toml_table(LAYERED).limits_for("U1", "momo", "AAPL")
    assert lim.max_order_qty == 400  # from the symbol
    assert lim.max_open_orders == 8  # from the strategy (the symbol does not set it)
    assert lim.max_position == 5000  # from global
    assert lim.max_order_notional == DEFAULT_LIMITS.max_order_notional  # default
    assert lim.allowed_destinations is None  # the strategy switched the list off


def test_restricted_lists_add_up_and_cannot_be_lifted() -> None:
    config = RiskConfig.from_toml_table(LAYERED)
    assert config.limits_for("U1", "momo", "X").restricted_symbols == {"GME", "AMC", "BBBY"}
    assert config.limits_for("U9", "other", "X").restricted_symbols == {"GME"}


def test_limit_table_memoises_per_triple() -> None:
    table = RiskConfig.from_toml_table(LAYERED).limit_table()
    first = table.get("U1", "momo", "AAPL")
    assert table.get("U1", "momo", "AAPL") is first
    assert table.memo[("U1", "momo", "AAPL")] is first
    # Nothing configured for the triple: the global limits object itself, not a copy.
    assert table.get("U9", "other", "MSFT") is table.get("U8", "other2", "IBM")
