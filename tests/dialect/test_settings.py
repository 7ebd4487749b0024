"""`[dialect]` settings: defaults, TOML parsing, unknown keys, bad values (`dialect/settings`)."""

from __future__ import annotations

import tomllib
from dataclasses import FrozenInstanceError
from typing import Any

import pytest

from fixrouter.dialect import DialectSettings
from fixrouter.errors import ConfigError
from fixrouter.requests import Capacity


def test_defaults_are_ctci_md_values() -> None:
    settings = DialectSettings()
    assert settings.handl_inst == "2"
    assert settings.default_exchange == "SMART"
    assert settings.default_currency == "USD"
    assert settings.default_account is None
    assert settings.default_capacity is None
    assert settings.send_transact_time is True
    assert settings.validate_every_message is False
    assert DialectSettings.from_toml_table({}) == settings


def test_frozen() -> None:
    with pytest.raises(FrozenInstanceError):
        DialectSettings().handl_inst = "1"  # type: ignore[misc]


def test_from_toml() -> None:
    table = tomllib.loads(
        """
        [dialect]
        default_account = "U1234567"
        default_capacity = "firm"
        default_exchange = "ISLAND"
        send_transact_time = false
        max_account_length = 12
        validate_every_message = true
        """
    )["dialect"]
    settings = DialectSettings.from_toml_table(table)
    assert settings.default_account == "U1234567"
    assert settings.default_capacity is Capacity.FIRM
    assert settings.default_exchange == "ISLAND"
    assert settings.send_transact_time is False
    assert settings.max_account_length == 12
    assert settings.validate_every_message is True


def test_unknown_keys_are_named() -> None:
    with pytest.raises(ConfigError, match=r"dialect: unknown keys 'exchange', 'handlinst'"):
        DialectSettings.from_toml_table({"handlinst": "2", "exchange": "SMART"})
    with pytest.raises(ConfigError, match=r"sessions.ib1.dialect: unknown key 'x' \(allowed: "):
        DialectSettings.from_toml_table({"x": 1}, where="sessions.ib1.dialect")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"send_transact_time": 1}, r"dialect.send_transact_time must be true or false, got 1"),
        ({"max_text_length": True}, r"dialect.max_text_length must be an integer, got True"),
        ({"max_text_length": "64"}, r"dialect.max_text_length must be an integer"),
        ({"max_text_length": 0}, r"dialect.max_text_length must be a positive integer, got 0"),
        ({"max_account_length": -1}, r"dialect.max_account_length must be a positive"),
        ({"default_account": 1234567}, r"dialect.default_account must be a string"),
        ({"default_account": ""}, r"dialect.default_account must be a non-empty string"),
        ({"handl_inst": ""}, r"dialect.handl_inst must be a non-empty string"),
        ({"default_capacity": "agency"}, r"dialect.default_capacity must be one of 'customer'"),
    ],
)
def test_bad_values_name_the_key(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        DialectSettings.from_toml_table(table)


def test_where_prefixes_range_errors() -> None:
    with pytest.raises(ConfigError, match=r"^ib.dialect.max_text_length must be a positive"):
        DialectSettings.from_toml_table({"max_text_length": 0}, where="ib.dialect")
