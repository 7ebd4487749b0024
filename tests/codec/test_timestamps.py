import datetime
import time
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixrouter.codec import format_utc_ms, format_utc_us, parse_utc_timestamp, timestamps


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


def uncached_ms(epoch: float) -> bytes:
    """The millisecond stamp as computed before any cache: the reference."""
    second, frac = divmod(int(epoch * 1000.0), 1000)
    return b"%s.%03d" % (time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(second)).encode(), frac)


@settings(max_examples=300)
@given(st.lists(st.integers(min_value=0, max_value=4_102_444_799_999), min_size=1, max_size=40),
       st.integers(min_value=0, max_value=3))
def test_millisecond_cache_matches_the_uncached_stamp(millis: list[int], repeat: int) -> None:
    # Runs of the same millisecond (cache hits), neighbours and jumps in any order.
    for ms in millis:
        for offset in (0.0, 0.0004) * (repeat + 1):
            epoch = ms / 1000.0 + offset
            assert format_utc_ms(epoch) == uncached_ms(epoch)


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


# The parse caches the epoch of the last minute and of the last second it converted. Its
# verdicts and values must be those of the full parse, whatever was parsed just before.


def reference_parse(value: bytes) -> float:
    """The full parse: the same function with its minute and second caches emptied first
    (18 bytes: no `value[:17]` can equal it)."""
    timestamps._last_minute = b""
    timestamps._parsed_second = b"x" * 18
    return parse_utc_timestamp(value)


def outcome(parse: Callable[[bytes], float], value: bytes) -> tuple[str, object]:
    try:
        result = parse(value)
    except ValueError as exc:
        return "ValueError", str(exc)
    return type(result).__name__, result


_GOOD = [b"20261124-10:22:16", b"20261124-10:22:16.123", b"20261124-10:22:16.123456",
         b"20261124-10:22:59.999", b"20261124-10:22:60", b"20261124-10:23:00.000",
         b"20240229-23:59:59.999999999", b"19700101-00:00:00"]  # fmt: skip
_BYTES = b"0123456789-:. +_xZ\x01"


@given(
    before=st.sampled_from(_GOOD),
    base=st.sampled_from(_GOOD),
    edits=st.lists(st.tuples(st.integers(0, 30), st.sampled_from(_BYTES)), max_size=3),
    cut=st.integers(0, 30),
    tail=st.sampled_from([b"", b".1", b".12", b".1234", b"Z", b".123x", b".12345678"]),
)
@settings(max_examples=3000)
def test_parse_agrees_with_the_full_parse(
    before: bytes, base: bytes, edits: list[tuple[int, int]], cut: int, tail: bytes
) -> None:
    value = bytearray(base)
    for position, byte in edits:
        if position < len(value):
            value[position] = byte
    mutated = bytes(value[: max(cut, 14)] if cut < len(value) else value) + tail
    parse_utc_timestamp(before)  # warm the cache with a neighbouring minute
    assert outcome(parse_utc_timestamp, mutated) == outcome(reference_parse, mutated)
    # And again, now that the mutant's own minute may be the cached one.
    assert outcome(parse_utc_timestamp, mutated) == outcome(reference_parse, mutated)
    assert outcome(parse_utc_timestamp, base) == outcome(reference_parse, base)


def test_cache_hit_rejects_what_the_full_parse_rejects() -> None:
    assert parse_utc_timestamp(b"20261124-10:22:16.123") == reference_parse(
        b"20261124-10:22:16.123"
    )
    for bad in [b"20261124-10:22:61", b"20261124-10:22:1x", b"20261124-10:22;16",
                b"20261124-10:22:16.12", b"20261124-10:22:16.123Z", b"20261124-10:22:",
                b"20261124-10:22:16\x01"]:  # fmt: skip
        with pytest.raises(ValueError, match="not a UTCTimestamp"):
            parse_utc_timestamp(bad)
    assert parse_utc_timestamp(b"20261124-10:22:60") == reference_parse(b"20261124-10:22:60")


def test_the_cached_second_keeps_its_fraction_checked() -> None:
    """Same second as the stamp before: the fraction is still parsed and checked."""
    for stamp in (b"20261124-10:22:16.123", b"20261124-10:22:60.500", b"20261124-10:22:16"):
        first = reference_parse(stamp)
        assert parse_utc_timestamp(stamp) == first
        second = stamp[:17]
        for tail, expected in [(b"", reference_parse(second)), (b".999", None),
                               (b".999999", None), (b".000000001", None)]:  # fmt: skip
            parse_utc_timestamp(stamp)  # the second is cached
            want = reference_parse(second + tail) if expected is None else expected
            parse_utc_timestamp(stamp)
            assert parse_utc_timestamp(second + tail) == want
        for bad in (b".", b".1", b".1234", b"Z", b".12a", b"\x01", b".9999999999"):
            parse_utc_timestamp(stamp)
            with pytest.raises(ValueError, match="not a UTCTimestamp"):
                parse_utc_timestamp(second + bad)
    # A different second of the same minute is not taken for the cached one.
    parse_utc_timestamp(b"20261124-10:22:16.123")
    assert parse_utc_timestamp(b"20261124-10:22:17.123") == reference_parse(
        b"20261124-10:22:17.123")
