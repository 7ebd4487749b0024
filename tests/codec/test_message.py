import pytest

from fixrouter.codec import GroupDef, decode_frame, encode_fields
from fixrouter.errors import RemoteProtocolError

LINES_OF_TEXT = GroupDef(count_tag=33, delimiter=58, members=frozenset({58, 354, 355}))
LEGS = GroupDef(
    count_tag=555,
    delimiter=600,
    members=frozenset({600, 624}),
    nested={539: GroupDef(539, 524, frozenset({524, 525}))},
)


def news(*lines: str, count: int | None = None) -> bytes:
    body: list[tuple[int, object]] = [(148, "Halt"), (33, len(lines) if count is None else count)]
    body += [(58, line) for line in lines]
    body.append((61, "0"))
    return encode_fields(
        [(35, "B"), (34, 1), (49, "IB"), (52, "20261124-10:22:16.123"), (56, "ME"), *body]  # type: ignore[list-item]
    )


def test_group_entries() -> None:
    message = decode_frame(news("line one", "line two"))
    assert message.group(LINES_OF_TEXT) == [[(58, b"line one")], [(58, b"line two")]]
    assert message.get(61) == b"0"  # the field after the group is still a body field


def test_group_count_mismatch_is_reject_reason_16() -> None:
    with pytest.raises(RemoteProtocolError) as error:
        decode_frame(news("only one", count=2)).group(LINES_OF_TEXT)
    assert error.value.reject_reason == 16
    assert error.value.ref_tag == 33


def test_absent_group_is_empty() -> None:
    message = decode_frame(encode_fields([(35, "0"), (34, 1)]))
    assert message.group(LINES_OF_TEXT) == []


def test_nested_group_stays_inside_its_entry() -> None:
    frame = encode_fields([
        (35, "AB"), (34, 1), (555, 2),
        (600, "A"), (539, 2), (524, "X"), (525, "D"), (524, "Y"), (625, "skip"),
    ])
    # 625 is not a member: the second outer entry never starts, so the count is wrong.
    with pytest.raises(RemoteProtocolError):
        decode_frame(frame).group(LEGS)
    frame = encode_fields([
        (35, "AB"), (34, 1), (555, 2),
        (600, "A"), (539, 2), (524, "X"), (525, "D"), (524, "Y"),
        (600, "B"), (624, "1"),
    ])
    entries = decode_frame(frame).group(LEGS)
    assert entries[0] == [(600, b"A"), (539, b"2"), (524, b"X"), (525, b"D"), (524, b"Y")]
    assert entries[1] == [(600, b"B"), (624, b"1")]


def test_messages_compare_by_bytes() -> None:
    frame = news("x")
    assert decode_frame(frame) == decode_frame(frame)
    assert len({decode_frame(frame), decode_frame(frame)}) == 1
    assert "35=B" in repr(decode_frame(frame))
