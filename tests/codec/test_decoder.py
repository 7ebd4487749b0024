import pytest

from fixrouter.codec import (
    FixMessage,
    FrameDecoder,
    Garbled,
    GarbledReason,
    decode_frame,
    encode_fields,
    split_fields,
)
from fixrouter.errors import GarbledMessageError, RemoteProtocolError

TIME = "20261124-10:22:16.123"


def message(seq: int, *body: tuple[int, object]) -> bytes:
    return encode_fields(
        [(35, "8"), (34, seq), (49, "IB"), (52, TIME), (56, "FIXROUTER"), *body]  # type: ignore[list-item]
    )


def with_checksum(frame_without_trailer: bytes) -> bytes:
    return frame_without_trailer + b"10=%03d\x01" % (sum(frame_without_trailer) % 256)


A = message(1, (37, "000009a5.00004691.603c7978.0001"), (39, "0"), (55, "AAPL"))
B = message(2, (58, "text with = signs = inside"), (55, "MSFT"))
C = message(3, (55, "IBM"), (151, 100))
STREAM = A + B + C


def seqs(results: list[FixMessage | Garbled]) -> list[bytes | None]:
    return [r.get(34) if isinstance(r, FixMessage) else None for r in results]


def test_round_trip_fields_in_order() -> None:
    decoded = decode_frame(A)
    assert decoded.raw == A
    assert decoded.msg_type == b"8"
    assert decoded.get(37) == b"000009a5.00004691.603c7978.0001"
    assert decoded[55] == b"AAPL"
    assert decoded.get_int(34) == 1
    assert decoded.get_str(49) == "IB"
    assert 39 in decoded and 999 not in decoded
    assert [tag for tag, _ in decoded.fields] == [8, 9, 35, 34, 49, 52, 56, 37, 39, 55, 10]


def test_value_containing_equals_sign_survives() -> None:
    assert decode_frame(B).get(58) == b"text with = signs = inside"


def test_every_split_point_of_a_three_message_stream() -> None:
    for cut in range(len(STREAM) + 1):
        decoder = FrameDecoder()
        results = decoder.feed(STREAM[:cut]) + decoder.feed(STREAM[cut:])
        assert seqs(results) == [b"1", b"2", b"3"], cut
        assert decoder.buffered == 0


def test_byte_by_byte_feed() -> None:
    decoder = FrameDecoder()
    results: list[FixMessage | Garbled] = []
    for i in range(len(STREAM)):
        results += decoder.feed(STREAM[i : i + 1])
    assert seqs(results) == [b"1", b"2", b"3"]


def test_bad_checksum_is_reported_and_the_stream_continues() -> None:
    bad = A[:-4] + b"%03d\x01" % ((int(A[-4:-1]) + 1) % 256)
    results = FrameDecoder().feed(bad + B)
    assert isinstance(results[0], Garbled)
    assert results[0].reason is GarbledReason.BAD_CHECKSUM
    assert seqs(results[1:]) == [b"2"]


def test_body_length_too_short_resynchronises() -> None:
    length = int(A.split(b"\x01")[1][2:])
    bad = A.replace(b"\x019=%d\x01" % length, b"\x019=%d\x01" % (length - 3), 1)
    results = FrameDecoder().feed(bad + B)
    assert isinstance(results[0], Garbled)
    assert results[0].reason is GarbledReason.BAD_BODY_LENGTH
    assert seqs(results[1:]) == [b"2"]


def test_body_length_too_long_is_reported_without_stalling() -> None:
    length = int(A.split(b"\x01")[1][2:])
    bad = A.replace(b"\x019=%d\x01" % length, b"\x019=%d\x01" % (length + 50), 1)
    decoder = FrameDecoder()
    results = decoder.feed(bad + B)
    assert isinstance(results[0], Garbled)
    assert results[0].reason is GarbledReason.BAD_BODY_LENGTH
    assert seqs(results[1:]) == [b"2"]


def test_body_length_not_a_number() -> None:
    bad = b"8=FIX.4.2\x019=abc\x0135=0\x0110=000\x01"
    results = FrameDecoder().feed(bad + C)
    assert isinstance(results[0], Garbled)
    assert results[0].reason is GarbledReason.BAD_BODY_LENGTH
    assert seqs(results[1:]) == [b"3"]


def test_garbage_before_and_between_frames() -> None:
    results = FrameDecoder().feed(b"\x00\xffnoise" + A + b"more noise 8=FI" + B)
    reasons = [r.reason if isinstance(r, Garbled) else None for r in results]
    assert reasons == [GarbledReason.GARBAGE, None, GarbledReason.GARBAGE, None]
    assert seqs(results) == [None, b"1", None, b"2"]


def test_wrong_begin_string() -> None:
    other = A.replace(b"8=FIX.4.2", b"8=FIX.4.4", 1)
    results = FrameDecoder().feed(other + B)
    assert isinstance(results[0], Garbled)
    assert results[0].reason is GarbledReason.BAD_BEGIN_STRING
    assert seqs(results[1:]) == [b"2"]


def test_msg_type_not_third_is_garbled() -> None:
    body = b"34=1\x0135=0\x0149=IB\x0152=%s\x0156=FIXROUTER\x01" % TIME.encode()
    frame = with_checksum(b"8=FIX.4.2\x019=%d\x01%s" % (len(body), body))
    results = FrameDecoder().feed(frame)
    assert isinstance(results[0], Garbled)
    assert results[0].reason is GarbledReason.BAD_FIELD_ORDER


def test_oversized_body_length() -> None:
    results = FrameDecoder(max_body_length=100).feed(message(1, (58, "x" * 200)) + C)
    assert isinstance(results[0], Garbled)
    assert results[0].reason is GarbledReason.OVERSIZED
    assert seqs(results[1:]) == [b"3"]


def test_partial_garbage_tail_is_held_until_it_can_be_judged() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(A + b"8=F") == [decode_frame(A)]
    assert decoder.buffered == 3
    assert seqs(decoder.feed(B[3:])) == [b"2"]


def test_raw_data_field_may_contain_soh() -> None:
    body = (
        b"35=A\x0134=1\x0149=IB\x0152=%s\x0156=FIXROUTER\x01" % TIME.encode()
        + b"95=7\x0196=a\x01b=c\x01d\x0198=0\x01"
    )
    frame = with_checksum(b"8=FIX.4.2\x019=%d\x01%s" % (len(body), body))
    decoded = decode_frame(frame)
    assert decoded.get(96) == b"a\x01b=c\x01d"
    assert decoded.get(98) == b"0"


def test_repeated_tag_lookup_returns_first_occurrence() -> None:
    frame = message(1, (33, 2), (58, "first"), (58, "second"))
    decoded = decode_frame(frame)
    assert decoded.get(58) == b"first"
    assert decoded.has_repeated_tags()
    assert not decode_frame(A).has_repeated_tags()


def test_non_numeric_tag_is_a_session_level_problem_not_garbage() -> None:
    body = b"35=0\x0134=1\x0149=IB\x0152=%s\x0156=FIXROUTER\x01abc=1\x01" % TIME.encode()
    frame = with_checksum(b"8=FIX.4.2\x019=%d\x01%s" % (len(body), body))
    decoded = decode_frame(frame)
    with pytest.raises(RemoteProtocolError) as error:
        _ = decoded.fields
    assert error.value.reject_reason == 0


def test_field_without_equals_is_malformed() -> None:
    body = b"35=0\x0134=1\x0149=IB\x0152=%s\x0156=FIXROUTER\x01junk\x01" % TIME.encode()
    frame = with_checksum(b"8=FIX.4.2\x019=%d\x01%s" % (len(body), body))
    results = FrameDecoder().feed(frame)
    assert isinstance(results[0], Garbled)
    assert results[0].reason is GarbledReason.MALFORMED_FIELD


def test_decode_frame_rejects_incomplete_and_multiple() -> None:
    with pytest.raises(GarbledMessageError):
        decode_frame(A[:-1])
    with pytest.raises(GarbledMessageError):
        decode_frame(A + B)
    with pytest.raises(GarbledMessageError) as error:
        decode_frame(A[:-4] + b"000\x01")
    assert error.value.reason == "BAD_CHECKSUM"


def test_get_int_on_a_non_integer_names_the_tag() -> None:
    with pytest.raises(RemoteProtocolError) as error:
        decode_frame(A).get_int(55)
    assert error.value.ref_tag == 55
    assert error.value.reject_reason == 6


def test_split_fields_for_logs() -> None:
    assert split_fields(b"8=FIX.4.2|35=0|junk|58=a=b|", b"|") == [
        (8, b"FIX.4.2"), (35, b"0"), (58, b"a=b")
    ]


def test_clear_drops_a_partial_frame() -> None:
    decoder = FrameDecoder()
    decoder.feed(A[:20])
    decoder.clear()
    assert seqs(decoder.feed(B)) == [b"2"]
