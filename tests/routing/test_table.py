"""The routing decision on its own: precedence, preference order, down sessions, no route."""

from __future__ import annotations

import pytest

from fixrouter.errors import ConfigError
from fixrouter.routing.config import RoutingConfig
from fixrouter.routing.table import RouteTable, RoutingStats, first_up

SESSIONS = ["primary", "backup", "desk1", "desk2"]
HANDLES = {name: f"<{name}>" for name in SESSIONS}


def table(routing: dict[str, object]) -> RouteTable[str]:
    return RouteTable(RoutingConfig.from_toml_table(routing).resolve(SESSIONS), HANDLES)


ROUTING: dict[str, object] = {
    "default_session": ["primary", "backup"],
    "accounts": {"U123": ["desk1"]},
    "strategies": {"momo": ["desk2", "desk1"]},
}


@pytest.mark.parametrize(
    ("strategy", "account", "route", "rule"),
    [
        ("momo", "U123", ("<desk1>",), "accounts.U123"),  # account beats strategy
        ("momo", None, ("<desk2>", "<desk1>"), "strategies.momo"),
        ("momo", "U999", ("<desk2>", "<desk1>"), "strategies.momo"),  # unlisted account
        ("other", "U123", ("<desk1>",), "accounts.U123"),
        ("other", None, ("<primary>", "<backup>"), "default_session"),
    ],
)
def test_precedence_is_account_then_strategy_then_default(
    strategy: str, account: str | None, route: tuple[str, ...], rule: str
) -> None:
    t = table(ROUTING)
    assert t.candidates(strategy, account) == route
    assert t.rule(strategy, account) == rule


def test_the_route_is_compiled_once_not_rebuilt_per_order() -> None:
    t = table(ROUTING)
    assert t.candidates("momo", None) is t.candidates("momo", None)


def test_no_default_leaves_unmatched_orders_without_a_route() -> None:
    t = table({**ROUTING, "default_session": []})
    assert t.candidates("other", None) == ()
    assert t.candidates("other", "U123") == ("<desk1>",)


def test_without_routing_every_order_goes_to_the_first_session() -> None:
    assert table({}).candidates("anyone", "U1") == ("<primary>",)


def test_an_unrouted_table_routes_nothing() -> None:
    assert RouteTable[str].unrouted().candidates("momo", "U1") == ()


def test_first_up_skips_down_sessions_in_preference_order() -> None:
    up = {"<desk2>": False, "<desk1>": True, "<primary>": True}
    route = table(ROUTING).candidates("momo", None)
    assert first_up(route, up.__getitem__) == "<desk1>"
    up["<desk2>"] = True
    assert first_up(route, up.__getitem__) == "<desk2>"
    assert first_up(route, lambda _: False) is None
    assert first_up((), lambda _: True) is None


def test_settings_travel_with_the_table() -> None:
    t = table({"failover": True, "cancel_while_down": "queue"})
    assert t.failover is True and t.cancel_while_down == "queue"
    assert table({}).failover is False


def test_a_route_to_a_session_without_handle_is_a_config_error() -> None:
    routes = RoutingConfig.from_toml_table({"strategies": {"momo": "desk2"}}).resolve(SESSIONS)
    with pytest.raises(ConfigError, match=r"strategies\.momo: session 'desk2' is not held"):
        RouteTable(routes, {"primary": "<primary>"})


def test_failovers_are_counted_by_preferred_and_chosen_session() -> None:
    stats = RoutingStats()
    stats.failover("primary", "backup")
    stats.failover("primary", "backup")
    stats.failover("desk2", "desk1")
    assert stats.failovers == {("primary", "backup"): 2, ("desk2", "desk1"): 1}
