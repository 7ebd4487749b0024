"""Differential property tests against simplefix, an independent codec.

Whatever our encoder writes, simplefix parses to the same fields; whatever simplefix
writes, we decode to the same fields, however the byte stream is split into reads.
"""

from __future__ import annotations

import simplefix
from hypothesis import given, settings
from hypothesis import strategies as st
from simplefix.data import RAW_DATA_TAGS, RAW_LEN_TAGS

from fixrouter.codec import FixMessage, FrameDecoder, encode_fields
from fixrouter.codec.tags import DATA_FIELD_LENGTH, DATA_LENGTH_TAGS, HEADER_TAGS

# Body tags: anything but header, trailer and length-prefixed data fields (simplefix
# does not frame raw data by its length, so it cannot be the referee for those).
EXCLUDED = (
    HEADER_TAGS | {10} | DATA_LENGTH_TAGS | set(DATA_FIELD_LENGTH)
    | set(RAW_LEN_TAGS) | set(RAW_DATA_TAGS)
)
body_tags = st.integers(min_value=1, max_value=9999).filter(lambda tag: tag not in EXCLUDED)
# Printable ASCII, '=' included on purpose (it forces the careful split path).
values = st.binary(min_size=1, max_size=24).map(
    lambda raw: bytes(33 + b % 94 for b in raw)
)
bodies = st.lists(st.tuples(body_tags, values), max_size=20)
msg_types = st.sampled_from([b"0", b"8", b"D", b"F", b"G", b"9", b"AE"])

HEADER = [(34, b"17"), (49, b"FIXROUTER"), (52, b"20261124-10:22:16.123"), (56, b"IB")]


def simplefix_pairs(frame: bytes) -> list[tuple[int, bytes]]:
    parser = simplefix.FixParser()
    parser.append_buffer(frame)
    message = parser.get_message()
    assert message is not None
    assert parser.get_message() is None
    return [(int(tag), value) for tag, value in message.pairs]


@settings(max_examples=300)
@given(msg_type=msg_types, body=bodies)
def test_simplefix_parses_what_we_encode(msg_type: bytes, body: list[tuple[int, bytes]]) -> None:
    frame = encode_fields([(35, msg_type), *HEADER, *body])
    pairs = simplefix_pairs(frame)
    assert pairs[0] == (8, b"FIX.4.2")
    trailer = frame.rindex(b"\x0110=") + 1
    assert pairs[1] == (9, str(trailer - frame.index(b"35=")).encode())
    assert pairs[2:-1] == [(35, msg_type), *HEADER, *body]
    assert pairs[-1] == (10, b"%03d" % (sum(frame[:trailer]) % 256))


def simplefix_encode(msg_type: bytes, body: list[tuple[int, bytes]]) -> bytes:
    message = simplefix.FixMessage()
    message.append_pair(8, b"FIX.4.2", header=True)
    message.append_pair(35, msg_type, header=True)
    for tag, value in HEADER:
        message.append_pair(tag, value, header=True)
    for tag, value in body:
        message.append_pair(tag, value)
    encoded: bytes = message.encode()
    return encoded


@settings(max_examples=200)
@given(
    messages=st.lists(st.tuples(msg_types, bodies), min_size=1, max_size=4),
    data=st.data(),
)
def test_we_decode_what_simplefix_encodes_across_random_splits(
    messages: list[tuple[bytes, list[tuple[int, bytes]]]], data: st.DataObject
) -> None:
    frames = [simplefix_encode(msg_type, body) for msg_type, body in messages]
    stream = b"".join(frames)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    decoder = FrameDecoder()
    decoded: list[FixMessage] = []
    previous = 0
    for cut in [*cuts, len(stream)]:
        for result in decoder.feed(stream[previous:cut]):
            assert isinstance(result, FixMessage), result
            decoded.append(result)
        previous = cut
    assert decoder.buffered == 0
    assert [message.raw for message in decoded] == frames
    for message, (msg_type, body), frame in zip(decoded, messages, frames, strict=True):
        assert message.fields == simplefix_pairs(frame)
        assert message.msg_type == msg_type
        for tag, value in body:
            # Lookups return the first occurrence of a tag.
            assert message.get(tag) == next(v for t, v in body if t == tag)
            assert value is not None
