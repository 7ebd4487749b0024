"""Errors the session core raises to its caller (local errors: nothing was sent)."""

from __future__ import annotations

from fixrouter.errors import LocalProtocolError


class SessionError(LocalProtocolError):
    """The session cannot do what its owner asked; nothing was journaled or sent."""


class NotLoggedOn(SessionError):
    """`send_app` was called while the session is not logged on (or is logging out)."""


class OperatorActionRequired(NotLoggedOn):
    """Case 15: sequence numbers disagree with the counterparty's; an operator must set
    them (`Session.set_next_seqs`) before the session may log on again. A NotLoggedOn, so
    callers that only care whether an order can go out need catch just that."""
