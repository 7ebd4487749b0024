"""The action values the driver consumes (session.actions)."""

from __future__ import annotations

import dataclasses

import pytest

from fixrouter.session import (
    Deliver,
    Disconnect,
    DisconnectReason,
    EventKind,
    SendBytes,
    SessionEvent,
)


def test_actions_are_frozen_and_slotted() -> None:
    for action in (SendBytes(b"x", 1), SessionEvent(EventKind.GARBLED, "d"),
                   Disconnect(DisconnectReason.LOGON_TIMEOUT)):
        assert not hasattr(action, "__dict__")
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(action, dataclasses.fields(action)[0].name, None)
    assert Deliver.__dictoffset__ == 0  # slotted (or a compiled native class): no __dict__


def test_enum_values_are_their_names_for_metric_labels() -> None:
    for enum_type in (EventKind, DisconnectReason):
        for member in enum_type:
            assert member.value == member.name
            assert str(member) == member.name
