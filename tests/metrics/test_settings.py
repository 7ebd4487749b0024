"""metrics/settings: the [metrics] table."""

from __future__ import annotations

import re

import pytest

from fixrouter.errors import ConfigError
from fixrouter.metrics import MetricsSettings


def test_defaults_serve_on_loopback_9464() -> None:
    s = MetricsSettings.from_toml_table({})
    assert (s.host, s.port, s.enabled, s.listen) == ("127.0.0.1", 9464, True, "127.0.0.1:9464")


def test_values() -> None:
    s = MetricsSettings.from_toml_table(
        {"listen": "[::1]:9500", "enabled": False, "position_symbols": ["AAPL", "MSFT"]}
    )
    assert (s.host, s.port, s.enabled, s.listen) == ("::1", 9500, False, "[::1]:9500")
    assert s.position_symbols == {"AAPL", "MSFT"}


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"listne": "1:2"}, "unknown key 'listne' (did you mean 'listen'?)"),
        ({"listen": "9464"}, "listen: '9464' is not HOST:PORT"),
        ({"listen": "h:99999"}, "is not HOST:PORT"),
        ({"listen": 9464}, "listen: expected"),
        ({"enabled": "yes"}, "enabled: expected true or false"),
        ({"position_symbols": "AAPL"}, "position_symbols: expected a list"),
    ],
)
def test_bad_tables_name_the_key(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        MetricsSettings.from_toml_table(table)
