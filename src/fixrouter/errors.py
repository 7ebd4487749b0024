"""The exception hierarchy.

Following h11, errors caused by *our* side (a bad order, a bad config, a bug) are kept
apart from errors caused by the *remote* side (a garbled or illegal FIX message), because
they are handled differently: a local error is refused before anything is sent, a remote
one may have to be answered on the wire (Reject, Logout).
"""

from __future__ import annotations


class FixRouterError(Exception):
    """Root of every error fixrouter raises on purpose."""


class ConfigError(FixRouterError):
    """A configuration file or setting is invalid. The message names the key."""


class LocalProtocolError(FixRouterError):
    """We were asked to send something that is not valid FIX for this dictionary."""


class RemoteProtocolError(FixRouterError):
    """The counterparty sent something that is not valid FIX.

    Carries what a session-level Reject (35=3) needs: the offending tag (RefTagID, 371)
    and the SessionRejectReason (373), so a Reject can be built straight from it.
    """

    def __init__(
        self, message: str, *, ref_tag: int | None = None, reject_reason: int | None = None
    ) -> None:
        super().__init__(message)
        self.ref_tag = ref_tag
        self.reject_reason = reject_reason


class GarbledMessageError(RemoteProtocolError):
    """A frame failed BeginString, BodyLength or CheckSum verification.

    `reason` is the decoder's stable reason code (e.g. `BAD_CHECKSUM`).
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
