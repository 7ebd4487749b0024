import datetime

import pytest

from fixrouter.codec import format_utc_ms, format_utc_us, parse_utc_timestamp


def expected(epoch: float, digits: int) -> bytes:
    moment = datetime.datetime.fromtimestamp(epoch, datetime.UTC)
    text = moment.strftime("%Y%m%d-%H:%M:%S.%f")
    return text[: len(text) - (6 - digits)].encode()


@pytest.mark.parametrize(
    "epoch", [0.0, 1795000000.0, 1795000000.999999, 1795000001.5, 4102444799.25]
)
def test_formatting_matches_datetime(epoch: float) -> None:
    assert format_utc_ms(epoch) == expected(epoch, 3)
    assert format_utc_us(epoch) == expected(epoch, 6)


def test_second_cache_does_not_leak_between_seconds() -> None:
    assert format_utc_ms(1795000000.5)[:17] != format_utc_ms(1795000001.5)[:17]
    assert format_utc_ms(1795000000.5) == expected(1795000000.5, 3)


@pytest.mark.parametrize(
    ("text", "epoch"),
    [
        (b"20261118-11:06:40", 1795000000.0),
        (b"20261118-11:06:40.250", 1795000000.25),
        (b"20261118-11:06:40.250000", 1795000000.25),
    ],
)
def test_parse(text: bytes, epoch: float) -> None:
    assert parse_utc_timestamp(text) == pytest.approx(epoch)


@pytest.mark.parametrize(
    "text", [b"", b"2026111811:06:40", b"20261318-11:06:40", b"20261118-11:06:40.2", b"x" * 21]
)
def test_parse_rejects(text: bytes) -> None:
    with pytest.raises(ValueError):
        parse_utc_timestamp(text)
