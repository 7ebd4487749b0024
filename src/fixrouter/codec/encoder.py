"""Encoding FIX messages.

Theory of operation
-------------------
A frame is `8=..|9=<BodyLength>|35=..|<header>|<body>|10=<CheckSum>|`. BodyLength counts
the bytes from after `9=..|` up to and including the SOH before `10=`; CheckSum is the
byte sum of everything before `10=`, modulo 256, as three digits.

Header order follows QuickFIX: 8, 9, 35, then the other header fields by ascending tag
(34, 43, 49, 52, 56, 97, 122, ...). Every header field precedes every body field, since IB
rejects header fields found in the body.

Two ways in:

* `encode_fields(fields)`: generic, from typed `(tag, value)` pairs in any order. Used by
  tools, tests and anything off the hot path.
* `Encoder`: one per session. The CompIDs and other constant header fields are encoded
  once, at construction, into the byte runs that sit between the variable header fields,
  so encoding a message is a few `%` formats and one byte sum. The body arrives already
  rendered, typically from a `BodyTemplate`, which turns a fixed tag list into a single
  `%`-format. Callers of the template guarantee their values hold no SOH (the dialect's
  validation does); `render_fields` checks it for everyone else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Final

from fixrouter.errors import LocalProtocolError

from .checksum import byte_sum
from .message import FixMessage
from .tags import (
    BEGIN_STRING,
    BODY_LENGTH,
    CHECKSUM,
    HEADER_TAGS,
    MSG_SEQ_NUM,
    MSG_TYPE,
    ORIG_SENDING_TIME,
    POSS_DUP_FLAG,
    POSS_RESEND,
    SENDER_COMP_ID,
    SENDING_TIME,
    SOH,
    TARGET_COMP_ID,
)
from .timestamps import Precision, formatter

FieldValue = bytes | str | int | Decimal | bool
Field = tuple[int, FieldValue]

# Header tags the Encoder writes itself on every message; constant extras must not clash.
_VARIABLE_HEADER: Final = frozenset(
    {BEGIN_STRING, BODY_LENGTH, MSG_TYPE, MSG_SEQ_NUM, POSS_DUP_FLAG, SENDING_TIME,
     POSS_RESEND, ORIG_SENDING_TIME}
)


def render_value(tag: int, value: FieldValue) -> bytes:
    """One field value as wire bytes.

    Raises:
        LocalProtocolError: a float (binary floats misprice; use Decimal or str), a
            non-finite Decimal, an empty value, or a value containing SOH.
    """
    if isinstance(value, bytes):
        raw = value
    elif isinstance(value, bool):  # before int: bool is an int subclass
        raw = b"Y" if value else b"N"
    elif isinstance(value, int):
        raw = b"%d" % value
    elif isinstance(value, str):
        try:
            raw = value.encode("ascii")
        except UnicodeEncodeError:
            raise LocalProtocolError(f"tag {tag}: value is not ASCII: {value!r}") from None
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise LocalProtocolError(f"tag {tag}: value is not finite: {value}")
        raw = format(value, "f").encode("ascii")
    else:
        raise LocalProtocolError(
            f"tag {tag}: cannot encode {type(value).__name__}; use Decimal, str, int or bytes"
        )
    if not raw:
        raise LocalProtocolError(f"tag {tag}: empty value")
    if SOH in raw:
        raise LocalProtocolError(f"tag {tag}: value contains SOH")
    return raw


def render_fields(fields: Iterable[Field]) -> bytes:
    """`tag=value|tag=value|...` for typed fields, checking every value."""
    return b"".join([b"%d=%b\x01" % (tag, render_value(tag, value)) for tag, value in fields])


def _frame(begin_string: bytes, rest: bytes) -> bytes:
    """Prefix `8=|9=|`, append `10=|`: `rest` is everything from `35=` on."""
    head = b"8=%b\x019=%d\x01%b" % (begin_string, len(rest), rest)
    return b"%b10=%03d\x01" % (head, byte_sum(head) & 0xFF)


def encode_fields(fields: Sequence[Field], begin_string: bytes = b"FIX.4.2") -> bytes:
    """Encode typed fields into a complete frame, computing BodyLength and CheckSum.

    `fields` may be in any order and may include 8, 9 and 10 (their values are replaced).
    Header fields are moved before the body in QuickFIX's order; body fields keep theirs.

    Raises:
        LocalProtocolError: MsgType missing, or a value `render_value` refuses.
    """
    msg_type: FieldValue | None = None
    header: list[Field] = []
    body: list[Field] = []
    for tag, value in fields:
        if tag == BEGIN_STRING:
            begin_string = render_value(tag, value)
        elif tag in (BODY_LENGTH, CHECKSUM):
            continue
        elif tag == MSG_TYPE:
            msg_type = value
        elif tag in HEADER_TAGS:
            header.append((tag, value))
        else:
            body.append((tag, value))
    if msg_type is None:
        raise LocalProtocolError("MsgType(35) is required")
    header.sort(key=lambda field: field[0])  # stable: repeated tags keep their order
    rest = render_fields([(MSG_TYPE, msg_type), *header, *body])
    return _frame(begin_string, rest)


class BodyTemplate:
    """A fixed run of body tags compiled into one `%`-format.

    `BodyTemplate([11, 55, 54]).render((b"A1", b"AAPL", b"1"))` gives
    `11=A1|55=AAPL|54=1|`. Values must be bytes without SOH: the caller guarantees it.
    """

    __slots__ = ("_format", "tags")

    def __init__(self, tags: Sequence[int]) -> None:
        self.tags = tuple(tags)
        self._format = b"".join(b"%d=%%b\x01" % tag for tag in self.tags)

    def render(self, values: tuple[bytes, ...]) -> bytes:
        return self._format % values


class Encoder:
    """Encodes messages for one session, with its constant header fields pre-encoded."""

    __slots__ = ("_after_sending_time", "_before_sending_time", "_begin", "_prefix_43",
                 "_run_53_96", "_run_98_121", "_run_123_up", "timestamp")

    def __init__(
        self,
        sender_comp_id: str,
        target_comp_id: str,
        *,
        begin_string: str = "FIX.4.2",
        precision: Precision = "ms",
        extra_header: Sequence[Field] = (),
    ) -> None:
        """`extra_header` holds other constant header fields, e.g. SenderSubID(50).

        Raises:
            LocalProtocolError: an extra field is not a header field or is one the
                encoder writes itself.
        """
        constant: list[Field] = [(SENDER_COMP_ID, sender_comp_id), (TARGET_COMP_ID, target_comp_id)]
        for tag, value in extra_header:
            if tag not in HEADER_TAGS or tag in _VARIABLE_HEADER or tag in (49, 56):
                raise LocalProtocolError(f"tag {tag} cannot be a constant header field")
            constant.append((tag, value))
        constant.sort(key=lambda field: field[0])

        def run(low: int, high: int) -> bytes:
            return render_fields([(t, v) for t, v in constant if low < t < high])

        self._begin = begin_string.encode("ascii")
        run_44_51 = run(POSS_DUP_FLAG, SENDING_TIME)
        self._run_53_96 = run(SENDING_TIME, POSS_RESEND)
        self._run_98_121 = run(POSS_RESEND, ORIG_SENDING_TIME)
        self._run_123_up = run(ORIG_SENDING_TIME, 1 << 30)
        self._prefix_43 = run_44_51  # follows 34 (or 43) directly
        self._before_sending_time = run_44_51
        self._after_sending_time = self._run_53_96 + self._run_98_121 + self._run_123_up
        self.timestamp: Callable[[float], bytes] = formatter(precision)

    def encode(self, msg_type: bytes, seq_num: int, sending_time: bytes, body: bytes) -> bytes:
        """A complete frame. `body` is rendered `tag=value|` fields (may be empty)."""
        rest = b"35=%b\x0134=%d\x01%b52=%b\x01%b%b" % (
            msg_type, seq_num, self._before_sending_time, sending_time,
            self._after_sending_time, body,
        )
        head = b"8=%b\x019=%d\x01%b" % (self._begin, len(rest), rest)
        return b"%b10=%03d\x01" % (head, byte_sum(head) & 0xFF)

    def encode_possdup(
        self,
        msg_type: bytes,
        seq_num: int,
        sending_time: bytes,
        orig_sending_time: bytes,
        body: bytes,
    ) -> bytes:
        """A retransmission: PossDupFlag(43)=Y and OrigSendingTime(122) set."""
        rest = b"35=%b\x0134=%d\x0143=Y\x01%b52=%b\x01%b%b122=%b\x01%b%b" % (
            msg_type, seq_num, self._prefix_43, sending_time, self._run_53_96,
            self._run_98_121, orig_sending_time, self._run_123_up, body,
        )
        return _frame(self._begin, rest)

    def encode_resend(self, original: FixMessage, sending_time: bytes) -> bytes:
        """Re-encode a stored message for a ResendRequest: same MsgSeqNum and body,
        43=Y, a fresh SendingTime, and the original SendingTime moved to 122."""
        orig_time = original.get(ORIG_SENDING_TIME) or original[SENDING_TIME]
        body = render_fields(
            [(tag, value) for tag, value in original.fields
             if tag not in HEADER_TAGS and tag != CHECKSUM]
        )
        return self.encode_possdup(
            original[MSG_TYPE], int(original[MSG_SEQ_NUM]), sending_time, orig_time, body
        )
