from decimal import Decimal

import pytest

from fixrouter.codec import (
    BodyTemplate,
    Encoder,
    checksum,
    decode_frame,
    encode_fields,
    render_fields,
    render_value,
)
from fixrouter.errors import LocalProtocolError

SENDING_TIME = b"20261124-10:22:16.123"


def fields_of(frame: bytes) -> list[tuple[int, bytes]]:
    return [(int(t), v) for t, _, v in (f.partition(b"=") for f in frame.split(b"\x01")[:-1])]


def test_body_length_and_checksum_are_computed_independently_correct() -> None:
    frame = Encoder("FIXROUTER", "IB").encode(b"0", 7, SENDING_TIME, b"")
    assert frame == (
        b"8=FIX.4.2\x019=54\x0135=0\x0134=7\x0149=FIXROUTER\x0152=20261124-10:22:16.123"
        b"\x0156=IB\x0110=%03d\x01" % (sum(frame[: frame.index(b"10=")]) % 256)
    )
    body_start = frame.index(b"35=")
    assert int(frame[12:14]) == frame.index(b"10=") - body_start


def test_header_fields_come_first_in_quickfix_order() -> None:
    encoder = Encoder(
        "FIXROUTER", "IB", extra_header=[(128, "DEST"), (50, "DESK1"), (57, "TGT"), (115, "ON")]
    )
    frame = encoder.encode_possdup(b"D", 9, SENDING_TIME, b"20261124-10:00:00.000", b"11=A\x01")
    tags = [tag for tag, _ in fields_of(frame)]
    assert tags == [8, 9, 35, 34, 43, 49, 50, 52, 56, 57, 115, 122, 128, 11, 10]
    assert decode_frame(frame).get(43) == b"Y"


def test_encode_fields_moves_header_fields_before_the_body() -> None:
    frame = encode_fields(
        [(11, "ORD1"), (56, "IB"), (35, "F"), (52, SENDING_TIME), (34, 3), (49, "ME"), (41, "X")]
    )
    assert [tag for tag, _ in fields_of(frame)] == [8, 9, 35, 34, 49, 52, 56, 11, 41, 10]
    message = decode_frame(frame)
    assert message.get(11) == b"ORD1"


def test_encode_fields_requires_msg_type() -> None:
    with pytest.raises(LocalProtocolError, match="MsgType"):
        encode_fields([(49, "A")])


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (b"raw", b"raw"),
        ("AAPL", b"AAPL"),
        (100, b"100"),
        (-5, b"-5"),
        (True, b"Y"),
        (False, b"N"),
        (Decimal("190.25"), b"190.25"),
        (Decimal("1E+2"), b"100"),
        (Decimal("0.00000001"), b"0.00000001"),
    ],
)
def test_render_value(value: object, wire: bytes) -> None:
    assert render_value(44, value) == wire  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (1.5, "float"),
        (Decimal("NaN"), "not finite"),
        (Decimal("Infinity"), "not finite"),
        ("", "empty"),
        ("a\x01b", "SOH"),
        ("caf\u00e9", "ASCII"),
    ],
)
def test_render_value_refuses_what_would_corrupt_the_frame(value: object, error: str) -> None:
    with pytest.raises(LocalProtocolError, match=error):
        render_value(58, value)  # type: ignore[arg-type]


def test_body_template_matches_render_fields() -> None:
    template = BodyTemplate([11, 55, 54, 38])
    values = (b"A1", b"AAPL", b"1", b"100")
    assert template.render(values) == render_fields(list(zip(template.tags, values, strict=True)))


def test_resend_keeps_seq_and_body_and_moves_sending_time_to_122() -> None:
    encoder = Encoder("FIXROUTER", "IB")
    original = encoder.encode(b"D", 42, SENDING_TIME, b"11=A1\x0155=AAPL\x01")
    resent = decode_frame(encoder.encode_resend(decode_frame(original), b"20261124-11:00:00.000"))
    assert resent.get(34) == b"42"
    assert resent.get(43) == b"Y"
    assert resent.get(122) == SENDING_TIME
    assert resent.get(52) == b"20261124-11:00:00.000"
    assert [(t, v) for t, v in resent.fields if t in (11, 55)] == [(11, b"A1"), (55, b"AAPL")]


def test_extra_header_must_be_a_constant_header_field() -> None:
    with pytest.raises(LocalProtocolError):
        Encoder("A", "B", extra_header=[(34, 1)])
    with pytest.raises(LocalProtocolError):
        Encoder("A", "B", extra_header=[(11, "x")])


def test_timestamp_precision() -> None:
    assert Encoder("A", "B").timestamp(1795000000.123456) == b"20261118-11:06:40.123"
    assert Encoder("A", "B", precision="us").timestamp(1795000000.123456) == (
        b"20261118-11:06:40.123456"
    )


def test_checksum_matches_plain_sum_for_long_and_non_ascii_input() -> None:
    for data in (b"x" * 10_000, bytes(range(256)) * 40, b"\xff" * 257, b""):
        assert checksum(data) == sum(data) % 256
