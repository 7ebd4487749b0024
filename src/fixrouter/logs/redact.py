"""What must never reach a log: password and token fields, and the configured secrets.

Two kinds of secret are masked, with `fixrouter decode`'s mask (`****`):

* **FIX fields** that carry credentials: decode's own list, so the two can never
  disagree: Password(554), NewPassword(925), RawData(96), SecureData(91), and every
  field of the data dictionary whose name mentions a password, token or secret.
* **Configured secrets** wherever they appear: the gateway's client tokens (a strategy
  that pastes its token into an order's text, or a hello line refused as bad JSON, must
  not put it in a log either).

`mask_fix(frame)` masks a FIX message. When it changes anything it recomputes
BodyLength(9) and CheckSum(10) over the masked text, so the logged line still verifies in
`fixrouter decode` (it is the message as sent, with the secret replaced, and is marked
`masked` by the FIX log). `mask_text(text)` masks a log line's text. Both return their
argument unchanged (the same object, no copy) when there is nothing to mask, which is
almost always: a handful of substring searches per message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from fixrouter.codec import byte_sum
from fixrouter.dictionary import Dictionary

MASK = "****"
# Tags masked by number, whether or not the dictionary defines them (554 and 925 are FIX 4.3
# fields, absent from a 4.2 dictionary, and still turn up in logs).
SECRET_TAGS = frozenset({91, 96, 554, 925})
# Field (and structured-log key) names that hold a credential.
SECRET_NAME = re.compile(r"pass(word|wd|phrase)|token|secret", re.IGNORECASE)

_MASK = MASK.encode()
_SOH = b"\x01"


def secret_tags(dictionary: Dictionary | None = None) -> frozenset[int]:
    """Tags to mask: the fixed ones, plus the dictionary's credential fields by name."""
    named = frozenset() if dictionary is None else frozenset(
        tag for tag, field in dictionary.fields.items() if SECRET_NAME.search(field.name)
    )  # fmt: skip
    return SECRET_TAGS | named


def secret_key(name: str) -> bool:
    """Whether a structured log field named `name` holds a credential by its name."""
    return SECRET_NAME.search(name) is not None


class Redactor:
    """Masks secrets in FIX messages and log text. Immutable; safe to share across threads."""

    __slots__ = ("_markers", "_secrets", "_secrets_b", "tags")

    def __init__(self, secrets: Iterable[str] = (), dictionary: Dictionary | None = None) -> None:
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))
        self._secrets_b = tuple(s.encode() for s in self._secrets)
        self.tags = secret_tags(dictionary)
        self._markers = tuple(b"\x01%d=" % tag for tag in sorted(self.tags))

    @property
    def secrets(self) -> tuple[str, ...]:
        return self._secrets

    def mask_text(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def mask_fix(self, frame: bytes) -> bytes:
        """`frame` with secret fields and configured secrets masked, 9 and 10 recomputed
        if anything changed. A frame that is not `8=...|9=...|...|10=...|` is masked as
        text only."""
        hit = any(marker in frame for marker in self._markers)
        hit = hit or any(secret in frame for secret in self._secrets_b)
        if not hit:
            return frame
        fields = frame.split(_SOH)
        trailing = fields and fields[-1] == b""
        if trailing:
            fields.pop()
        masked = []
        for item in fields:
            tag, sep, _value = item.partition(b"=")
            if sep and tag.isdigit() and int(tag) in self.tags:
                item = tag + b"=" + _MASK
            else:
                for secret in self._secrets_b:
                    if secret in item:
                        item = item.replace(secret, _MASK)
            masked.append(item)
        return _reframe(masked) if _is_frame(masked) else _SOH.join(masked) + (
            _SOH if trailing else b"")


def _is_frame(fields: list[bytes]) -> bool:
    return (len(fields) >= 3 and fields[0].startswith(b"8=") and fields[1].startswith(b"9=")
            and fields[-1].startswith(b"10="))


def _reframe(fields: list[bytes]) -> bytes:
    """BodyLength and CheckSum for the masked fields (8 and the body kept as they are)."""
    body = b"".join(f + _SOH for f in fields[2:-1])
    head = b"%b\x019=%d\x01%b" % (fields[0], len(body), body)
    return b"%b10=%03d\x01" % (head, byte_sum(head) & 0xFF)
