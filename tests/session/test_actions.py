"""The action values the driver consumes (session.actions)."""

from __future__ import annotations

import dataclasses

import pytest

from fixrouter import COMPILED_MODULES
from fixrouter.codec.decoder import decode_frame
from fixrouter.codec.encoder import encode_fields
from fixrouter.session import (
    Deliver,
    Disconnect,
    DisconnectReason,
    EventKind,
    SendBytes,
    SessionEvent,
)


def test_actions_are_frozen_and_slotted() -> None:
    for action in (SessionEvent(EventKind.GARBLED, "d"),
                   Disconnect(DisconnectReason.LOGON_TIMEOUT)):
        assert not hasattr(action, "__dict__")
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(action, dataclasses.fields(action)[0].name, None)
    assert Deliver.__dictoffset__ == 0  # slotted (or a compiled native class): no __dict__


def test_per_message_actions_are_values() -> None:
    # SendBytes and Deliver are plain classes (compiled __init__), not dataclasses: they
    # must still compare, hash and print as values do.
    frame = encode_fields([(35, b"0"), (34, b"1")])
    send = SendBytes(b"x", 1)
    assert not hasattr(send, "__dict__")
    assert send == SendBytes(b"x", 1) and send != SendBytes(b"x", 2) and send != (b"x", 1)
    assert hash(send) == hash(SendBytes(b"x", 1))
    assert repr(send) == "SendBytes(data=b'x', ticket=1)"
    deliver, same = Deliver(decode_frame(frame)), Deliver(decode_frame(frame))
    assert deliver == same and hash(deliver) == hash(same)
    assert deliver != Deliver(decode_frame(encode_fields([(35, b"0"), (34, b"2")])))


@pytest.mark.skipif("fixrouter.session.actions" not in COMPILED_MODULES,
                    reason="read-only at run time only when compiled (Final attributes)")
def test_per_message_actions_are_read_only_when_compiled() -> None:
    with pytest.raises(AttributeError, match="not writable"):
        SendBytes(b"x", 1).data = b"y"  # type: ignore[misc]


def test_enum_values_are_their_names_for_metric_labels() -> None:
    for enum_type in (EventKind, DisconnectReason):
        for member in enum_type:
            assert member.value == member.name
            assert str(member) == member.name
