"""`[gateway]` settings: defaults, every key, and errors that name the key."""

from __future__ import annotations

from typing import Any

import pytest

from fixrouter.errors import ConfigError
from fixrouter.gateway.config import GatewayConfig, ListenAddress
from fixrouter.requests import SecurityType


def test_defaults() -> None:
    config = GatewayConfig.from_toml_table({})
    assert config == GatewayConfig()
    assert [str(a) for a in config.listen] == ["tcp://127.0.0.1:7001"]
    assert config.max_line_bytes == 65536
    assert config.max_outbound_bytes == 4 * 1024 * 1024
    assert not config.allow_duplicate_names
    assert config.allow_unknown_clients
    assert config.fractional_qty == {SecurityType.CASH, SecurityType.CMDTY}
    assert config.hello_timeout == 10.0
    assert dict(config.clients) == {}


def test_every_key() -> None:
    config = GatewayConfig.from_toml_table(
        {
            "listen": ["tcp://0.0.0.0:7100", "tcp://[::1]:7101", "unix:///run/fr/gw.sock"],
            "max_line_bytes": 4096,
            "max_outbound_bytes": 1 << 20,
            "allow_duplicate_names": True,
            "allow_unknown_clients": False,
            "fractional_qty": ["STK"],
            "hello_timeout": 3,
            "clients": {"alpha": {"token": "t-a"}, "beta": {"token_env": "B"}, "gamma": {}},
        },
        environ={"B": "t-b"},
    )
    assert config.listen == (
        ListenAddress("tcp", "0.0.0.0", 7100),
        ListenAddress("tcp", "::1", 7101),
        ListenAddress("unix", path="/run/fr/gw.sock"),
    )
    assert [str(a) for a in config.listen][1] == "tcp://[::1]:7101"
    assert (config.max_line_bytes, config.max_outbound_bytes) == (4096, 1 << 20)
    assert config.allow_duplicate_names and not config.allow_unknown_clients
    assert config.fractional_qty == {SecurityType.STK}
    assert config.hello_timeout == 3.0
    assert {n: c.token for n, c in config.clients.items()} == {
        "alpha": "t-a",
        "beta": "t-b",
        "gamma": None,
    }
    assert "t-a" not in repr(config) and "t-b" not in repr(config)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"listne": []}, "unknown key 'listne' in [gateway] (did you mean 'listen'?)"),
        ({"clients": {"a": {"tokn": "x"}}}, "unknown key 'tokn' in [gateway.clients.a]"),
        ({"listen": []}, "listen: give at least one address"),
        ({"listen": [7001]}, "listen: expected a list of URL strings"),
        ({"listen": ["127.0.0.1:7001"]}, "must start with tcp:// or unix://"),
        ({"listen": ["tcp://127.0.0.1"]}, "is not tcp://HOST:PORT"),
        ({"listen": ["tcp://127.0.0.1:70000"]}, "out of range"),
        ({"listen": ["unix://relative.sock"]}, "needs an absolute path"),
        ({"listen": ["unix:///" + "x" * 200]}, "longer than 107 bytes"),
        ({"max_line_bytes": "64k"}, "max_line_bytes: expected an integer"),
        ({"max_line_bytes": 10}, "max_line_bytes: 10 is below 256"),
        ({"max_outbound_bytes": 100}, "max_outbound_bytes: 100 is below 4096"),
        ({"allow_duplicate_names": "no"}, "allow_duplicate_names: expected true or false"),
        ({"hello_timeout": 0}, "hello_timeout: 0.0 must be positive"),
        ({"hello_timeout": True}, "hello_timeout: expected seconds"),
        ({"fractional_qty": ["CRYPTO"]}, "fractional_qty: 'CRYPTO' is not one of"),
        ({"clients": {"bad name": {}}}, "[gateway.clients.bad name]: a client name is"),
        ({"clients": {"a": {"token": "x", "token_env": "X"}}}, "token or token_env, not both"),
        ({"clients": {"a": {"token_env": "NOT_SET_ANYWHERE"}}}, "NOT_SET_ANYWHERE is not set"),
        ({"clients": {"a": {"token": ""}}}, "the token must be 1-256 printable ASCII"),
        ({"clients": {"a": {"token": 5}}}, "token: expected a string"),
        ({"clients": {"a": "token"}}, "[gateway.clients.a]: expected a table"),
    ],
)
def test_errors_name_the_key(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        GatewayConfig.from_toml_table(table, environ={})
    assert message in str(caught.value)


def test_a_bad_token_is_not_quoted() -> None:
    with pytest.raises(ConfigError) as caught:
        GatewayConfig.from_toml_table(
            {"clients": {"a": {"token_env": "T"}}}, environ={"T": "secret\x01value"}
        )
    assert "secret" not in str(caught.value)
