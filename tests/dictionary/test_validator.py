"""The compiled validator: every way a body can be wrong, and what a valid one costs."""

from __future__ import annotations

import os
import timeit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixrouter.dictionary import (
    CompiledValidator,
    InboundProblem,
    SessionRejectReason,
    load_dictionary,
)
from fixrouter.dictionary.formats import checker_for
from fixrouter.errors import LocalProtocolError

Body = list[tuple[int, bytes]]

NEW_ORDER: Body = [
    (11, b"20240105-C000123"),
    (1, b"U1234567"),
    (21, b"2"),
    (100, b"SMART"),
    (55, b"AAPL"),
    (167, b"CS"),
    (54, b"1"),
    (60, b"20240105-14:30:00.123"),
    (38, b"100"),
    (40, b"2"),
    (44, b"187.25"),
    (15, b"USD"),
    (59, b"0"),
]

# An IB option order with everything the CTCI notes mention.
NEW_OPTION_ORDER: Body = [
    (11, b"20240105-C000124"),
    (1, b"U1234567"),
    (21, b"2"),
    (100, b"SMART"),
    (55, b"AAPL"),
    (167, b"OPT"),
    (200, b"202401"),
    (205, b"19"),
    (202, b"190"),
    (201, b"1"),
    (231, b"100"),
    (6035, b"AAPL  240119C00190000"),
    (6058, b"AAPL"),
    (54, b"5"),
    (5700, b"IBKR"),
    (6086, b"1"),
    (60, b"20240105-14:30:00.123456"),
    (38, b"2"),
    (40, b"4"),
    (44, b"3.10"),
    (99, b"3.05"),
    (15, b"USD"),
    (59, b"6"),
    (432, b"20240112"),
    (204, b"0"),
    (77, b"O"),
    (6122, b"c"),
    (6205, b"1"),
    (6207, b"SUB1"),
    (8237, b"12345"),
    (5957, b"2"),
    (5958, b"riskAversion"),
    (5960, b"Passive"),
    (5958, b"forceCompletion"),
    (5960, b"1"),
]

CANCEL_REPLACE: Body = [
    (37, b"000009a5.00004691.603c7978.0001"),
    (41, b"20240105-C000123"),
    (11, b"20240105-C000125"),
    (1, b"U1234567"),
    (21, b"2"),
    (100, b"SMART"),
    (55, b"AAPL"),
    (54, b"1"),
    (60, b"20240105-14:31:00.000"),
    (38, b"200"),
    (40, b"2"),
    (44, b"187.5"),
    (59, b"1"),
]


@pytest.fixture(scope="module")
def validator() -> CompiledValidator:
    return CompiledValidator(load_dictionary())


def replaced(body: Body, tag: int, value: bytes) -> Body:
    assert any(t == tag for t, _ in body)
    return [(t, value if t == tag else v) for t, v in body]


def without(body: Body, tag: int) -> Body:
    return [(t, v) for t, v in body if t != tag]


# Valid bodies pass.


@pytest.mark.parametrize(
    ("msg_type", "body"),
    [
        (b"D", NEW_ORDER),
        (b"D", NEW_OPTION_ORDER),
        (b"G", CANCEL_REPLACE),
        (b"F", [(41, b"A"), (11, b"B"), (55, b"AAPL"), (54, b"1"), (38, b"100")]),
        (b"H", [(11, b"*")]),
        (b"A", [(98, b"0"), (108, b"30"), (141, b"Y")]),
        (b"0", []),
        (b"D", [*without(NEW_ORDER, 44), (44, b"-0.5")]),  # negative prices exist (spreads)
        (b"D", replaced(NEW_ORDER, 60, b"20240105-14:30:00")),
        (b"D", replaced(NEW_ORDER, 60, b"20161231-23:59:60")),  # a leap second
        (b"D", [*NEW_ORDER, (18, b"M a")]),  # MULTIPLEVALUESTRING, IB's "a" included
        (b"D", [*NEW_ORDER, (5957, b"0")]),  # an empty group
    ],
)
def test_valid_bodies_pass(validator: CompiledValidator, msg_type: bytes, body: Body) -> None:
    validator.validate_outbound(msg_type, body)
    assert validator.check_inbound(msg_type, body) is None


# Each error class, with the message naming message, tag and problem.


@pytest.mark.parametrize(
    ("msg_type", "body", "expected"),
    [
        (b"Z", NEW_ORDER, r"MsgType\(35\)='Z' is not defined"),
        (b"D", [*NEW_ORDER, (37, b"X")], r"NewOrderSingle \(35=D\): OrderID\(37\) is not defined "
         "for this message type"),
        (b"D", [*NEW_ORDER, (9999, b"X")], r"tag 9999 is not defined in the dictionary"),
        (b"D", [*NEW_ORDER, (49, b"ME")], r"SenderCompID\(49\) is a header/trailer field"),
        (b"D", [*NEW_ORDER, (10, b"123")], r"CheckSum\(10\) is a header/trailer field"),
        (b"D", without(NEW_ORDER, 100), r"required field ExDestination\(100\) is missing"),
        (b"G", without(CANCEL_REPLACE, 41), r"OrderCancelReplaceRequest \(35=G\): required "
         r"field OrigClOrdID\(41\) is missing"),
        (b"D", replaced(NEW_ORDER, 40, b"Z"), r"OrdType\(40\)='Z' is not an allowed value "
         r"\(allowed: 1 MARKET, 2 LIMIT"),
        (b"D", replaced(NEW_ORDER, 167, b"STOCK"), r"SecurityType\(167\)='STOCK' is not an "
         "allowed value"),
        (b"D", replaced(NEW_ORDER, 21, b"1"), r"HandlInst\(21\)='1' is not an allowed value"),
        (b"D", [*NEW_ORDER, (18, b"M Q")], r"ExecInst\(18\)='Q' is not an allowed value"),
        (b"D", replaced(NEW_ORDER, 44, b"1e5"), r"Price\(44\)='1e5' is not a decimal number"),
        (b"D", replaced(NEW_ORDER, 44, b"NaN"), r"Price\(44\)='NaN'"),
        (b"D", replaced(NEW_ORDER, 44, b"inf"), r"Price\(44\)='inf'"),
        (b"D", replaced(NEW_ORDER, 44, b"1.2.3"), r"Price\(44\)='1.2.3'"),
        (b"D", replaced(NEW_ORDER, 44, b"+1"), r"Price\(44\)='\+1'"),
        (b"D", replaced(NEW_ORDER, 38, b"-"), r"OrderQty\(38\)='-' is not a decimal"),
        (b"D", replaced(NEW_ORDER, 60, b"20240105-14:30"), r"TransactTime\(60\)='20240105-14:"
         r"30' is not YYYYMMDD-HH:MM:SS\[\.sss\[sss\]\] \(type UTCTIMESTAMP\)"),
        (b"D", replaced(NEW_ORDER, 60, b"20241305-14:30:00"), r"TransactTime\(60\)"),
        (b"D", replaced(NEW_ORDER, 60, b"20240105-14:30:00.12"), r"TransactTime\(60\)"),
        (b"D", replaced(NEW_ORDER, 15, b"usd"), r"Currency\(15\)='usd' is not a three-letter"),
        (b"D", [*NEW_ORDER, (200, b"2024-01")], r"MaturityMonthYear\(200\)='2024-01' is not "
         r"YYYYMM"),
        (b"D", [*NEW_ORDER, (205, b"32")], r"MaturityDay\(205\)='32' is not a day"),
        (b"D", [*NEW_ORDER, (432, b"20240230x")], r"ExpireDate\(432\)"),
        (b"D", [*NEW_ORDER, (114, b"y")], r"LocateReqd\(114\)='y' is not Y or N"),
        (b"D", [*NEW_ORDER, (6091, b"1.0")], r"WhatIf\(6091\)='1.0' is not an integer"),
        (b"D", replaced(NEW_ORDER, 55, b""), r"Symbol\(55\) has no value"),
        (b"D", replaced(NEW_ORDER, 40, b""), r"OrdType\(40\) has no value"),
        (b"D", replaced(NEW_ORDER, 55, b"AA\x01PL"), r"Symbol\(55\)=.* contains the SOH"),
        (b"D", [*NEW_ORDER, (55, b"MSFT")], r"Symbol\(55\) appears more than once"),
        (b"D", [*NEW_ORDER, (5957, b"2"), (5958, b"a"), (5960, b"b")],
         r"NoStrategyParameters\(5957\)=2 but 1 entries follow"),
        (b"D", [*NEW_ORDER, (5957, b"1"), (5960, b"b"), (5958, b"a")],
         r"=1 but 0 entries follow \(an entry must start with StrategyParameterName\(5958\)"),
        (b"D", [*NEW_ORDER, (5957, b"1"), (5958, b"a"), (5960, b"b"), (5960, b"c")],
         r"StrategyParameterValue\(5960\) appears more than once in entry 1 of group "
         r"NoStrategyParameters\(5957\)"),
        (b"D", [*NEW_ORDER, (5958, b"a")], r"StrategyParameterName\(5958\) is not defined for "
         "this message type"),
        (b"D", [*NEW_ORDER, (5957, b"x")], r"NoStrategyParameters\(5957\)='x' is not a "
         "non-negative integer"),
    ],
)  # fmt: skip
def test_outbound_errors(
    validator: CompiledValidator, msg_type: bytes, body: Body, expected: str
) -> None:
    with pytest.raises(LocalProtocolError, match=expected):
        validator.validate_outbound(msg_type, body)


def test_required_field_in_group_entry(validator: CompiledValidator) -> None:
    body: Body = [(148, b"Bulletin"), (33, b"1"), (354, b"2"), (355, b"hi")]
    # 354 is a member but not the delimiter, so no entry starts at all.
    assert validator.check_inbound(b"B", body) == InboundProblem(
        33,
        SessionRejectReason.INCORRECT_NUM_IN_GROUP,
        "LinesOfText(33)=1 but 0 entries follow (an entry must start with Text(58), "
        "found EncodedTextLen(354))",
    )


def test_data_fields_may_hold_soh(validator: CompiledValidator) -> None:
    body: Body = [(148, b"Bulletin"), (33, b"1"), (58, b"a"), (354, b"3"), (355, b"\x01\x02\x03")]
    assert validator.check_inbound(b"B", body) is None


def test_nested_entries_are_checked_in_place(validator: CompiledValidator) -> None:
    body: Body = [
        (148, b"Bulletin"),
        (146, b"2"),
        (46, b"AAPL"),
        (167, b"CS"),
        (46, b"ES"),
        (167, b"FUTURES"),
        (33, b"1"),
        (58, b"line"),
    ]
    assert validator.check_inbound(b"B", body) == InboundProblem(
        167,
        SessionRejectReason.VALUE_INCORRECT,
        "SecurityType(167)='FUTURES' is not an allowed value (allowed: CS COMMON_STOCK, "
        "STK STOCK, FUT FUTURE, OPT OPTION, FOP FUTURE_OPTION, WAR WARRANT, CASH "
        "FOREIGN_EXCHANGE, BOND BOND, CFD CONTRACT_FOR_DIFFERENCE, CMDTY COMMODITY, FUND "
        "MUTUAL_FUND, MLEG MULTILEG)",
    )


# Inbound classification: SessionRejectReason and RefTagID.

EXEC_ACK: Body = [
    (8, b"FIX.4.2"),
    (9, b"200"),
    (35, b"8"),
    (34, b"12"),
    (49, b"IB"),
    (52, b"20240105-14:30:00.200"),
    (56, b"CLIENT"),
    (150, b"0"),
    (20, b"0"),
    (39, b"0"),
    (55, b"AAPL"),
    (54, b"1"),
    (38, b"100"),
    (32, b"0"),
    (31, b"0.00"),
    (14, b"0"),
    (151, b"100"),
    (6, b"0"),
    (17, b"E1"),
    (37, b"000009a5.00004691.603c7978.0001"),
    (1, b"U901192"),
    (167, b"CS"),
    (10, b"000"),
]


def test_inbound_execution_report_with_envelope(validator: CompiledValidator) -> None:
    assert validator.check_inbound(b"8", EXEC_ACK) is None


@pytest.mark.parametrize(
    ("msg_type", "fields", "ref_tag", "reason"),
    [
        (b"W", EXEC_ACK, 35, SessionRejectReason.INVALID_MSG_TYPE),
        (b"8", without(EXEC_ACK, 17), 17, SessionRejectReason.REQUIRED_TAG_MISSING),
        (b"8", replaced(EXEC_ACK, 150, b"F"), 150, SessionRejectReason.VALUE_INCORRECT),
        (b"8", replaced(EXEC_ACK, 14, b"ten"), 14, SessionRejectReason.INCORRECT_DATA_FORMAT),
        (b"8", replaced(EXEC_ACK, 52, b"yesterday"), 52,
         SessionRejectReason.INCORRECT_DATA_FORMAT),
        (b"8", replaced(EXEC_ACK, 55, b""), 55, SessionRejectReason.TAG_WITHOUT_VALUE),
        (b"8", [*EXEC_ACK[:-1], (17, b"E2")], 17,
         SessionRejectReason.TAG_APPEARS_MORE_THAN_ONCE),
    ],
)  # fmt: skip
def test_inbound_problems(
    validator: CompiledValidator,
    msg_type: bytes,
    fields: Body,
    ref_tag: int,
    reason: SessionRejectReason,
) -> None:
    problem = validator.check_inbound(msg_type, fields)
    assert problem is not None
    got_tag, got_reason, text = problem
    assert (got_tag, got_reason) == (ref_tag, reason)
    assert f"({ref_tag})" in text


def test_inbound_unknown_tags_are_ignored_unless_strict(validator: CompiledValidator) -> None:
    extra = [*EXEC_ACK[:-1], (6999, b"x"), (44, b"1.5"), (109, b"client")]
    assert validator.check_inbound(b"8", extra) is None
    strict = CompiledValidator(validator.dictionary, strict_inbound=True)
    assert strict.check_inbound(b"8", extra) == InboundProblem(
        6999, SessionRejectReason.INVALID_TAG_NUMBER, "tag 6999 is not defined in the dictionary"
    )
    assert strict.check_inbound(b"8", [*EXEC_ACK[:-1], (109, b"c")]) == InboundProblem(
        109, SessionRejectReason.INVALID_TAG_NUMBER, "tag 109 is not defined in the dictionary"
    )
    assert strict.check_inbound(b"8", [*EXEC_ACK[:-1], (110, b"5")]) == InboundProblem(
        110,
        SessionRejectReason.TAG_NOT_DEFINED_FOR_MESSAGE,
        "MinQty(110) is not defined for this message type",
    )


def test_reason_codes_are_fix42_or_flagged() -> None:
    assert SessionRejectReason.VALUE_INCORRECT.in_fix42
    assert SessionRejectReason.INVALID_MSG_TYPE.in_fix42
    assert not SessionRejectReason.INCORRECT_NUM_IN_GROUP.in_fix42
    assert not SessionRejectReason.TAG_APPEARS_MORE_THAN_ONCE.in_fix42


@pytest.mark.parametrize(
    ("fix_type", "good", "bad"),
    [
        ("INT", [b"0", b"-12", b"007"], [b"", b"1.0", b"--1", b"+1", b" 1", b"1-"]),
        ("SEQNUM", [b"1", b"4294967296"], [b"-1", b"", b"1 "]),
        ("PRICE", [b"1", b"1.", b".5", b"-0.25", b"100.000001"], [b"", b".", b"-", b"-.", b".-5",
                                                               b"1e3", b"nan", b"1,5"]),
        ("CHAR", [b"A", b"1"], [b"", b"AB"]),
        ("BOOLEAN", [b"Y", b"N"], [b"y", b"1", b"YES"]),
        ("UTCTIMESTAMP", [b"20240229-00:00:00", b"20240105-23:59:59.999",
                          b"20240105-23:59:59.999999"],
         [b"20240105-24:00:00", b"20240105 12:00:00", b"20240132-12:00:00",
          b"20240105-12:00:00.1234", b"20240105-12:00:00Z"]),
        ("UTCTIMEONLY", [b"12:00:00", b"12:00:00.123"], [b"12:00", b"25:00:00"]),
        ("LOCALMKTDATE", [b"20240105"], [b"2024015", b"20240100", b"2024-01-05"]),
        ("MONTHYEAR", [b"202401", b"20240119", b"202401w3"], [b"2024", b"202413", b"202401w9"]),
        ("DAYOFMONTH", [b"1", b"31"], [b"0", b"32", b"x"]),
        ("CURRENCY", [b"USD", b"CNH"], [b"US", b"usd", b"USDX", b"U$D"]),
    ],
)  # fmt: skip
def test_type_syntax(fix_type: str, good: list[bytes], bad: list[bytes]) -> None:
    check = checker_for(fix_type)
    assert check is not None
    for value in good:
        assert check(value), (fix_type, value)
    for value in bad:
        assert not check(value), (fix_type, value)
    assert checker_for("STRING") is None
    assert checker_for("EXCHANGE") is None


def test_outbound_cost(validator: CompiledValidator) -> None:
    """House rule 9: the pre-send check must cost next to nothing.

    Prints the figure; asserts only a generous bound, since CI machines vary.
    """
    runs = 20_000
    best = min(
        timeit.repeat(lambda: validator.validate_outbound(b"D", NEW_ORDER), number=runs, repeat=5)
    )
    per_call_us = best / runs * 1e6
    print(f"validate_outbound(NewOrderSingle, {len(NEW_ORDER)} fields): {per_call_us:.2f} us")
    limit = float(os.environ.get("FIXROUTER_VALIDATOR_LIMIT_US", "10"))
    assert per_call_us < limit


# The fast tier may only ever say "valid" when the thorough walk agrees, and must raise
# whenever the walk finds a problem. Strict inbound checking runs that same walk.

_STRICT = CompiledValidator(load_dictionary(), strict_inbound=True)
_VALUE_POOL = [b"", b"1", b"2", b"Z", b"0", b"100", b"-1.5", b"1e3", b"SMART", b"A\x01B",
               b"20240105-14:30:00", b"USD", b"usd", b"riskAversion"]  # fmt: skip
_TAG_POOL = sorted({tag for tag, _ in NEW_OPTION_ORDER} | {37, 9999, 110, 126})


@given(
    base=st.sampled_from([NEW_ORDER, NEW_OPTION_ORDER, NEW_OPTION_ORDER[:-5]]),
    drops=st.sets(st.integers(0, 40), max_size=4),
    edits=st.lists(st.tuples(st.integers(0, 40), st.sampled_from(_VALUE_POOL)), max_size=3),
    extras=st.lists(
        st.tuples(st.sampled_from(_TAG_POOL), st.sampled_from(_VALUE_POOL)), max_size=2
    ),
)
@settings(max_examples=500)
def test_fast_tier_agrees_with_thorough_walk(
    base: Body, drops: set[int], edits: list[tuple[int, bytes]], extras: Body
) -> None:
    body = list(base)
    for index, value in edits:
        index %= len(body)
        body[index] = (body[index][0], value)
    body = [field for i, field in enumerate(body) if i not in drops] + extras
    problem = _STRICT.check_inbound(b"D", body)
    if problem is None:
        _STRICT.validate_outbound(b"D", body)
    else:
        with pytest.raises(LocalProtocolError) as caught:
            _STRICT.validate_outbound(b"D", body)
        assert str(caught.value) == f"NewOrderSingle (35=D): {problem.text}"
