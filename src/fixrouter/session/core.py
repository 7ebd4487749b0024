"""The sans-I/O FIX 4.2 initiator session (skeleton: API frozen, behaviour follows)."""

from __future__ import annotations

import enum

from fixrouter.dictionary import CompiledValidator
from fixrouter.store import MessageStore

from .actions import Action
from .config import SessionConfig


class SessionState(enum.StrEnum):
    DISCONNECTED = "DISCONNECTED"
    LOGON_SENT = "LOGON_SENT"
    ACTIVE = "ACTIVE"
    RESENDING = "RESENDING"
    LOGOUT_SENT = "LOGOUT_SENT"


class Session:
    def __init__(
        self,
        config: SessionConfig,
        store: MessageStore,
        *,
        validator: CompiledValidator | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.operator_action_required = False

    @property
    def state(self) -> SessionState:
        return SessionState.DISCONNECTED

    @property
    def next_sender_seq(self) -> int:
        return self.store.next_sender_seq

    @property
    def next_target_seq(self) -> int:
        return self.store.next_target_seq

    def connection_made(self, now: float) -> list[Action]:
        raise NotImplementedError

    def receive_data(self, data: bytes, now: float) -> list[Action]:
        raise NotImplementedError

    def on_timer(self, now: float) -> list[Action]:
        raise NotImplementedError

    def next_deadline(self) -> float | None:
        raise NotImplementedError

    def send_app(self, msg_type: bytes, body: bytes, now: float) -> list[Action]:
        raise NotImplementedError

    def logout(self, now: float, text: str = "") -> list[Action]:
        raise NotImplementedError

    def connection_lost(self, now: float) -> list[Action]:
        raise NotImplementedError
