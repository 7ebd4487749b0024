"""SessionConfig defaults, validation and the QuickFIX name mapping (session.config)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from fixrouter.errors import ConfigError
from fixrouter.session import QUICKFIX_NAMES, SessionConfig
from fixrouter.session.config import SCHEDULE_NAMES


def test_only_comp_ids_are_required() -> None:
    config = SessionConfig(sender_comp_id="A", target_comp_id="B")
    assert (config.begin_string, config.heartbeat_interval) == ("FIX.4.2", 30)
    assert not config.reset_on_logon and config.max_resend_age is None
    assert config.extra_header() == ()


def test_every_quickfix_name_maps_to_a_field() -> None:
    names = {f.name for f in dataclasses.fields(SessionConfig)}
    assert set(QUICKFIX_NAMES.values()) <= names
    assert "schedule" in names and "StartTime" in SCHEDULE_NAMES
    unmapped = names - set(QUICKFIX_NAMES.values()) - {"schedule"}
    assert unmapped == set()


@pytest.mark.parametrize(
    ("change", "names"),
    [
        ({"sender_comp_id": ""}, "SenderCompID"),
        ({"target_comp_id": ""}, "TargetCompID"),
        ({"heartbeat_interval": -1}, "HeartBtInt"),
        ({"logon_timeout": 0}, "LogonTimeout"),
        ({"max_latency": 0}, "MaxLatency"),
        ({"max_resend_age": 0}, "MaxResendAge"),
        ({"test_request_delay_multiplier": 2.0}, "HeartBeatTimeoutMultiplier"),
        ({"timestamp_precision": "ns"}, "TimestampPrecision"),
        ({"resend_chunk": 0}, "ResendChunkSize"),
    ],
)
def test_bad_values_name_the_setting(change: dict[str, Any], names: str) -> None:
    params: dict[str, Any] = {"sender_comp_id": "A", "target_comp_id": "B", **change}
    with pytest.raises(ConfigError, match=names):
        SessionConfig(**params)


def test_config_is_frozen() -> None:
    config = SessionConfig(sender_comp_id="A", target_comp_id="B")
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.heartbeat_interval = 5  # type: ignore[misc]
