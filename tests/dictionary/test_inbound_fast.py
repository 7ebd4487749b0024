"""The inbound fast tier gives `check_inbound`'s verdict on every received message.

`CompiledValidator.check_inbound_message(msg)` must return exactly what the reference,
`check_inbound(msg.msg_type, msg.fields)`, returns (the same problem, or None), and raise
exactly when it raises. The messages are real frames through `FrameDecoder`: valid
execution reports as the benchmark acceptor and IB send them, and mutations of them
(fields dropped, repeated, emptied, given wrong values, tags written oddly, unknown tags,
groups), with both the default and the strict validator.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixrouter.codec import FixMessage, FrameDecoder
from fixrouter.dictionary import CompiledValidator, InboundProblem, load_dictionary
from fixrouter.dictionary.formats import (
    _CHECKERS,
    UTC_TIMESTAMP,
    excludes_empty_and_soh,
    is_decimal,
)
from fixrouter.dictionary.validator import _DECIMAL
from fixrouter.errors import RemoteProtocolError

Pairs = list[tuple[bytes, bytes]]

_DICTIONARY = load_dictionary()
_LENIENT = CompiledValidator(_DICTIONARY)
_STRICT = CompiledValidator(_DICTIONARY, strict_inbound=True)

_HEADER: Pairs = [(b"34", b"12"), (b"49", b"IB"), (b"52", b"20261124-10:22:16.123"),
                  (b"56", b"FIXROUTER")]  # fmt: skip
# The benchmark acceptor's New and Filled.
ER_NEW: Pairs = [
    (b"35", b"8"), *_HEADER, (b"37", b"1"), (b"11", b"261124A-1"), (b"17", b"E1"),
    (b"20", b"0"), (b"150", b"0"), (b"39", b"0"), (b"55", b"AAPL"), (b"54", b"1"),
    (b"38", b"100"), (b"32", b"0"), (b"31", b"0"), (b"151", b"100"), (b"14", b"0"),
    (b"6", b"0"), (b"60", b"20261124-10:22:16.120"),
]  # fmt: skip
ER_FILL: Pairs = [
    (b"35", b"8"), *_HEADER, (b"37", b"1"), (b"11", b"261124A-1"), (b"17", b"E2"),
    (b"20", b"0"), (b"150", b"2"), (b"39", b"2"), (b"55", b"AAPL"), (b"54", b"1"),
    (b"38", b"100"), (b"32", b"100"), (b"31", b"190.25"), (b"151", b"0"), (b"14", b"100"),
    (b"6", b"190.25"), (b"60", b"20261124-10:22:16.121"),
]  # fmt: skip
# IB's style: more header fields, an option, IB's own tags, a text.
ER_IB: Pairs = [
    (b"35", b"8"), *_HEADER, (b"43", b"Y"), (b"122", b"20261124-10:22:16.000"),
    (b"6", b"3.1"), (b"11", b"261124A-2"), (b"14", b"2"), (b"17", b"0000a1b2.01"),
    (b"20", b"0"), (b"31", b"3.10"), (b"32", b"2"), (b"37", b"000009a5.0001"), (b"38", b"2"),
    (b"39", b"2"), (b"40", b"2"), (b"44", b"3.10"), (b"54", b"1"), (b"55", b"AAPL"),
    (b"59", b"0"), (b"60", b"20261124-10:22:16.120"), (b"150", b"2"), (b"151", b"0"),
    (b"1", b"U901192"), (b"167", b"OPT"), (b"200", b"202612"), (b"201", b"1"),
    (b"202", b"190"), (b"205", b"18"), (b"58", b"filled"), (b"6035", b"AAPL  261218C00190000"),
    (b"76", b"IBKR"), (b"29", b"1"), (b"30", b"CBOE"), (b"15", b"USD"),
]  # fmt: skip
CANCEL_REJECT: Pairs = [
    (b"35", b"9"), *_HEADER, (b"37", b"NONE"), (b"11", b"261124A-3"), (b"41", b"261124A-1"),
    (b"39", b"8"), (b"434", b"1"), (b"102", b"1"), (b"58", b"too late to cancel"),
]  # fmt: skip
BUSINESS_REJECT: Pairs = [
    (b"35", b"j"), *_HEADER, (b"45", b"7"), (b"372", b"D"), (b"380", b"3"),
    (b"58", b"unsupported"),
]  # fmt: skip
NEWS_WITH_GROUP: Pairs = [
    (b"35", b"B"), *_HEADER, (b"148", b"Halt"), (b"33", b"2"), (b"58", b"line one"),
    (b"58", b"line two"),
]  # fmt: skip
BASES = [ER_NEW, ER_FILL, ER_IB, CANCEL_REJECT, BUSINESS_REJECT, NEWS_WITH_GROUP]

_TAGS = sorted({tag for base in BASES for tag, _ in base} | {
    b"10", b"8", b"9", b"382", b"375", b"337", b"110", b"109", b"9999", b"6999", b"055",
    b"0", b"00", b"abc", b"5x", b"-1", b"+55", b"33", b"7",
})  # fmt: skip
_VALUES = [
    b"", b"0", b"1", b"2", b"8", b"F", b"Z", b"Y", b"N", b"100", b"-1.5", b"1e3", b"190.25",
    b"AAPL", b"USD", b"usd", b"20261124-10:22:16.123", b"20261124-25:22:16", b"2026112",
    b"202612", b"1 2", b"A B", b"x" * 40,
]  # fmt: skip


def frame(pairs: Pairs) -> bytes:
    body = b"".join(b"%b=%b\x01" % pair for pair in pairs)
    head = b"8=FIX.4.2\x019=%d\x01" % len(body) + body
    return head + b"10=%03d\x01" % (sum(head) & 0xFF)


def decoded(pairs: Pairs) -> FixMessage | None:
    items = FrameDecoder().feed(frame(pairs))
    if len(items) != 1 or not isinstance(items[0], FixMessage):
        return None  # not a frame the session would see as a message
    return items[0]


def verdict(check: object) -> tuple[str, InboundProblem | str | None]:
    try:
        return "ok", check()  # type: ignore[operator]
    except RemoteProtocolError as exc:
        return "raised", f"{exc} {exc.reject_reason} {exc.ref_tag}"


def assert_same(pairs: Pairs) -> None:
    msg = decoded(pairs)
    if msg is None:
        return
    for validator in (_LENIENT, _STRICT):
        fresh = decoded(pairs)
        assert fresh is not None
        expected = verdict(lambda v=validator: v.check_inbound(msg.msg_type, msg.fields))
        got = verdict(lambda v=validator, m=fresh: v.check_inbound_message(m))
        assert got == expected, (pairs, validator is _STRICT)


@pytest.mark.parametrize("base", BASES, ids=lambda b: b[0][1].decode())
def test_valid_messages(base: Pairs) -> None:
    assert_same(base)
    msg = decoded(base)
    assert msg is not None
    if base is not NEWS_WITH_GROUP:
        assert _LENIENT.check_inbound_message(msg) is None


@pytest.mark.parametrize("base", BASES, ids=lambda b: b[0][1].decode())
def test_every_single_mutation(base: Pairs) -> None:
    """Each field dropped, repeated, and given each value of the pool; each tag respelled."""
    for i in range(1, len(base)):  # 35 stays first: the decoder requires it
        assert_same(base[:i] + base[i + 1 :])
        assert_same([*base, base[i]])
        for value in _VALUES:
            assert_same([*base[:i], (base[i][0], value), *base[i + 1 :]])
        for spelling in (b"0" + base[i][0], b"+" + base[i][0], b"x" + base[i][0]):
            assert_same([*base[:i], (spelling, base[i][1]), *base[i + 1 :]])
    for tag in _TAGS:
        for value in (b"1", b"", b"X"):
            assert_same([*base, (tag, value)])


@given(
    base=st.sampled_from(BASES),
    drops=st.sets(st.integers(1, 45), max_size=3),
    edits=st.lists(st.tuples(st.integers(1, 45), st.sampled_from(_VALUES)), max_size=3),
    extras=st.lists(st.tuples(st.sampled_from(_TAGS), st.sampled_from(_VALUES)), max_size=3),
)
@settings(max_examples=1500, deadline=None)
def test_random_mutations(
    base: Pairs, drops: set[int], edits: list[tuple[int, bytes]], extras: Pairs
) -> None:
    pairs = list(base)
    for index, value in edits:
        index = 1 + index % (len(pairs) - 1)
        pairs[index] = (pairs[index][0], value)
    pairs = [field for i, field in enumerate(pairs) if i not in drops] + extras
    assert_same(pairs)


@pytest.mark.parametrize("fix_type", sorted(_CHECKERS))
def test_types_that_exclude_empty_and_soh(fix_type: str) -> None:
    """The fast tier trusts `excludes_empty_and_soh`: check it on the checks themselves."""
    check = _CHECKERS[fix_type]
    if not excludes_empty_and_soh(fix_type):
        assert fix_type == "CHAR"
        return
    assert not check(b"")
    for good in (b"1", b"12", b"1.5", b"Y", b"USD", b"20261124-10:22:16", b"202612",
                 b"10:22:16", b"20261124"):  # fmt: skip
        for soh_variant in (good + b"\x01", b"\x01" + good, good[:1] + b"\x01" + good[1:]):
            assert not check(soh_variant), (fix_type, soh_variant)


@given(st.binary(max_size=15), st.binary(max_size=15))
@settings(max_examples=300)
def test_no_checked_type_accepts_soh(head: bytes, tail: bytes) -> None:
    value = head + b"\x01" + tail
    for fix_type, check in _CHECKERS.items():
        if excludes_empty_and_soh(fix_type):
            assert not check(value), (fix_type, value)


# The fast tier runs the commonest syntax checks inline; they must be `formats`' checks.

_SYNTAX_BYTES = b"0123456789-:.+ eE\x01x"


@given(st.binary(max_size=12) | st.text(_SYNTAX_BYTES.decode(), max_size=12).map(str.encode))
@settings(max_examples=1000)
def test_inline_decimal_is_formats_is_decimal(value: bytes) -> None:
    # LastPx(31) of an ExecutionReport is a PRICE: the fast tier's decimal kind.
    fast = _LENIENT._inbound[b"8"]
    assert fast.kinds[b"31"] == _DECIMAL
    assert _LENIENT._value_ok(fast, _DECIMAL, b"31", value) == is_decimal(value)


_STAMPS = [b"20261124-10:22:16", b"20261124-10:22:16.123", b"20261124-10:22:16.123456",
           b"20240229-23:59:60.999", b"20261124-10:22:59"]  # fmt: skip


@given(
    before=st.sampled_from(_STAMPS),
    base=st.sampled_from(_STAMPS),
    edits=st.lists(st.tuples(st.integers(0, 25), st.sampled_from(_SYNTAX_BYTES)), max_size=3),
    cut=st.integers(0, 26),
    tail=st.sampled_from([b"", b"1", b".1", b".12", b".1234", b"Z", b".1234567", b"\x01"]),
)
@settings(max_examples=3000)
def test_inline_timestamp_is_the_utctimestamp_regex(
    before: bytes, base: bytes, edits: list[tuple[int, int]], cut: int, tail: bytes
) -> None:
    value = bytearray(base)
    for position, byte in edits:
        if position < len(value):
            value[position] = byte
    mutated = bytes(value[:cut]) + tail
    expected = UTC_TIMESTAMP.fullmatch(mutated) is not None
    validator = CompiledValidator(_DICTIONARY)
    assert validator._timestamp(before)
    assert validator._timestamp(mutated) == expected, mutated
    assert validator._timestamp(mutated) == expected, mutated  # its own second cached
    assert validator._timestamp(base)


def test_a_known_tag_sequence_still_has_its_values_checked() -> None:
    validator = CompiledValidator(_DICTIONARY)
    good = decoded(ER_FILL)
    assert good is not None and validator.check_inbound_message(good) is None
    assert len(validator._inbound[b"8"].shapes) == 1  # remembered
    for i, (tag, _) in enumerate(ER_FILL[1:], start=1):
        for value in (b"", b"Z", b"1e3", b"\x01"):
            pairs = [*ER_FILL[:i], (tag, value), *ER_FILL[i + 1 :]]
            msg, fresh = decoded(pairs), decoded(pairs)
            if msg is None or fresh is None:
                continue
            assert validator.check_inbound_message(fresh) == validator.check_inbound(
                b"8", msg.fields
            ), pairs
    assert len(validator._inbound[b"8"].shapes) == 1


@pytest.mark.parametrize("base", [ER_NEW, ER_FILL, ER_IB, CANCEL_REJECT, BUSINESS_REJECT],
                         ids=["new", "fill", "ib", "cancel_reject", "business_reject"])
def test_every_value_of_a_known_sequence_goes_through_its_plan(base: Pairs) -> None:
    """Each field of a remembered sequence of tags given each value of the pool: the same
    sequence, so the remembered plan answers (every kind of check: enum, free text,
    digits, decimal, timestamp, called checks such as CURRENCY and MONTHYEAR), and it must
    answer what the reference does."""
    for strict in (False, True):
        validator = CompiledValidator(_DICTIONARY, strict_inbound=strict)
        good = decoded(base)
        assert good is not None
        if validator.check_inbound_message(good) is not None:
            assert strict  # IB's own tags: unknown to the dictionary
            continue
        fast = validator._inbound[base[0][1]]
        assert len(fast.shapes) == 1
        for i, (tag, _) in enumerate(base[1:], start=1):
            for value in (*_VALUES, b"\x01", b"1\x012"):
                pairs = [*base[:i], (tag, value), *base[i + 1 :]]
                msg, fresh = decoded(pairs), decoded(pairs)
                if msg is None or fresh is None or msg.has_repeated_tags():
                    continue
                expected = verdict(lambda m=msg, v=validator: v.check_inbound(m.msg_type,
                                                                              m.fields))
                got = verdict(lambda m=fresh, v=validator: v.check_inbound_message(m))
                assert got == expected, (pairs, strict)
        assert len(fast.shapes) == 1, "a mutated value changed the sequence of tags"


def test_the_table_of_tag_sequences_is_bounded() -> None:
    validator = CompiledValidator(_DICTIONARY)
    for n in range(100):
        msg = decoded([*ER_NEW, (b"%d" % (7000 + n), b"x")])
        assert msg is not None and validator.check_inbound_message(msg) is None
    assert len(validator._inbound[b"8"].shapes) == 32
    strict = CompiledValidator(_DICTIONARY, strict_inbound=True)
    msg = decoded([*ER_NEW, (b"7000", b"x")])
    assert msg is not None and strict.check_inbound_message(msg) is not None
    assert not strict._inbound[b"8"].shapes
