"""Framing and decoding of a FIX byte stream.

Theory of operation
-------------------
`FrameDecoder.feed(data)` appends to a buffer and returns every complete frame in it,
each as a `FixMessage` or, when it fails verification, a `Garbled` report. It never
raises on bad input: a garbled frame is reported and the decoder resynchronises at the
next `8=FIX`, so one bad message cannot kill a connection (FIX session tests 2d/3b/3c).

A frame is located by its header, `8=<BeginString>|9=<BodyLength>|`, and bounded by
BodyLength: the trailer `10=NNN|` must start exactly where the body ends, and NNN must be
the byte sum of everything before it, modulo 256. The third field must be MsgType(35)
(session test 2t). When a frame's BodyLength points past the start of the next frame,
the length is wrong and the frame is reported at once rather than waiting for bytes that
will never make sense.

Splitting fields: a well-formed field holds exactly one `=`, so when a frame contains as
many `=` as SOH bytes and carries no length-prefixed data field, replacing SOH with `=` and
splitting once yields `[tag, value, tag, value, ...]` in a single C-level pass. Anything
else (a `=` inside a value, raw data that may contain SOH) takes the careful path.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Final
from zlib import adler32

from fixrouter.errors import GarbledMessageError

from .checksum import byte_sum
from .message import FixMessage
from .tags import DATA_FIELD_LENGTH, SOH, tag_key

_BEGIN: Final = b"8=FIX"
_TRAILER_LEN: Final = 7  # b"10=NNN\x01"
_DATA_LENGTH_KEYS: Final = frozenset(tag_key(tag) for tag in DATA_FIELD_LENGTH.values())
# Keys that send a frame down the careful path: b"" is an empty tag (`|=value|`), and a
# length-prefixed data field may hold SOH. Either way only the careful path frames it right.
_CAREFUL_KEYS: Final = _DATA_LENGTH_KEYS | {b""}
_DATA_KEYS_BY_LENGTH: Final = {tag_key(length): data for data, length in DATA_FIELD_LENGTH.items()}
_MAX_LENGTH_DIGITS: Final = 9
_GARBLED_SAMPLE: Final = 256  # bytes of a garbled frame kept for the log


class GarbledReason(enum.Enum):
    """Why a frame was discarded. Values are stable, for logs and metric labels."""

    GARBAGE = "GARBAGE"  # bytes that are not part of any frame
    BAD_BEGIN_STRING = "BAD_BEGIN_STRING"
    BAD_BODY_LENGTH = "BAD_BODY_LENGTH"
    BAD_CHECKSUM = "BAD_CHECKSUM"
    BAD_FIELD_ORDER = "BAD_FIELD_ORDER"  # 8, 9, 35 are not the first three fields
    MALFORMED_FIELD = "MALFORMED_FIELD"  # a field that is not `tag=value`
    OVERSIZED = "OVERSIZED"  # BodyLength above the configured maximum


@dataclass(frozen=True, slots=True)
class Garbled:
    """A frame (or run of bytes) that failed verification and was discarded."""

    reason: GarbledReason
    detail: str
    data: bytes  # the offending bytes, truncated to a sample


def _garbled(reason: GarbledReason, detail: str, data: bytes) -> Garbled:
    return Garbled(reason, detail, data[:_GARBLED_SAMPLE])


class FrameDecoder:
    """Incremental decoder for one connection's inbound byte stream."""

    __slots__ = ("_buf", "_header", "_max_body_length", "_prefix")

    def __init__(self, begin_string: bytes = b"FIX.4.2", max_body_length: int = 1 << 20) -> None:
        self._prefix = b"8=" + begin_string + b"\x019="
        self._header = re.compile(
            re.escape(self._prefix) + rb"(\d{1,%d})\x0135=" % _MAX_LENGTH_DIGITS
        ).match
        self._max_body_length = max_body_length
        # Leftover bytes of an incomplete frame. Kept as immutable bytes: a read that
        # holds whole frames (the usual case) is then sliced without any copying.
        self._buf = b""

    @property
    def buffered(self) -> int:
        """Bytes held back waiting for the rest of a frame."""
        return len(self._buf)

    def clear(self) -> None:
        """Forget partial input (on disconnect)."""
        self._buf = b""

    def feed(self, data: bytes) -> list[FixMessage | Garbled]:
        """Add bytes from the wire; return every frame they complete, in order."""
        buf = self._buf + data if self._buf else bytes(data)
        out: list[FixMessage | Garbled] = []
        pos = 0
        end = len(buf)
        prefix = self._prefix
        prefix_len = len(prefix)
        header = self._header
        max_body_length = self._max_body_length
        while pos < end:
            # Fast path: a well-formed frame right here. Everything unusual (garbage,
            # a partial frame, any verification failure) falls through to the general
            # code below, which reports precisely what is wrong.
            match = header(buf, pos)
            if match is not None:
                digits = match.group(1)
                # The match ends after `35=`, three bytes into the body.
                body_start = pos + prefix_len + len(digits) + 1
                body_end = body_start + int(digits)
                frame_end = body_end + _TRAILER_LEN
                if (
                    frame_end <= end
                    and body_end - body_start <= max_body_length
                    and buf.startswith(b"10=", body_end)
                    and buf[frame_end - 1] == 1
                ):
                    frame = buf[pos:frame_end]
                    declared = frame[-4:-1]
                    size = frame_end - pos
                    if declared.isdigit() and (size <= 256 or (size <= 515 and frame.isascii())):
                        actual = ((adler32(frame) & 0xFFFF) - 160
                                  - declared[0] - declared[1] - declared[2])
                        if int(declared) == actual & 0xFF:
                            pos = frame_end
                            # `_split`'s fast path, inlined: this is the hottest loop. The
                            # frame's last SOH leaves an empty last token: dropped, which
                            # spares a copy of the frame without it.
                            tokens = frame.replace(SOH, b"=").split(b"=")
                            tokens.pop()
                            n = len(tokens)
                            if n == 2 * frame.count(SOH):
                                # A comprehension: compiled, it skips zip's pair tuples.
                                index = {tokens[i]: tokens[i + 1] for i in range(0, n, 2)}
                                if len(index) * 2 == n and index.keys().isdisjoint(
                                    _CAREFUL_KEYS
                                ):
                                    out.append(FixMessage(frame, tokens, index))
                                    continue
                            out.append(_split(frame))
                            continue
            start = buf.find(_BEGIN, pos)
            if start < 0:
                # Keep a tail that may be the beginning of `8=FIX`; the rest is garbage.
                keep = max(pos, end - (len(_BEGIN) - 1))
                while keep < end and not _BEGIN.startswith(buf[keep:end]):
                    keep += 1
                if keep > pos:
                    out.append(_garbled(GarbledReason.GARBAGE, "no BeginString", buf[pos:keep]))
                pos = keep
                break
            if start > pos:
                out.append(_garbled(GarbledReason.GARBAGE, "bytes before BeginString",
                                    buf[pos:start]))
                pos = start
            if not buf.startswith(prefix, start):
                if end - start < prefix_len and prefix.startswith(buf[start:end]):
                    break  # the header is still arriving
                pos = self._skip(out, buf, GarbledReason.BAD_BEGIN_STRING,
                                 "unexpected BeginString or missing BodyLength", start)
                continue
            digits_at = start + prefix_len
            soh = buf.find(SOH, digits_at, digits_at + _MAX_LENGTH_DIGITS + 1)
            if soh < 0:
                if end - digits_at > _MAX_LENGTH_DIGITS:
                    pos = self._skip(out, buf, GarbledReason.BAD_BODY_LENGTH,
                                     "BodyLength not terminated", start)
                    continue
                break
            digits = buf[digits_at:soh]
            if not digits.isdigit():
                pos = self._skip(out, buf, GarbledReason.BAD_BODY_LENGTH,
                                 f"BodyLength is not a number: {digits!r}", start)
                continue
            body_length = int(digits)
            if body_length > self._max_body_length:
                pos = self._skip(out, buf, GarbledReason.OVERSIZED,
                                 f"BodyLength {body_length} exceeds {self._max_body_length}",
                                 start)
                continue
            body_start = soh + 1
            body_end = body_start + body_length
            frame_end = body_end + _TRAILER_LEN
            if frame_end > end:
                # Incomplete. If another frame already starts inside the claimed body,
                # the length is wrong: report now instead of stalling the stream.
                next_start = buf.find(b"\x01" + _BEGIN, body_start, end)
                if next_start >= 0:
                    out.append(_garbled(GarbledReason.BAD_BODY_LENGTH,
                                        f"BodyLength {body_length} runs into the next message",
                                        buf[start : next_start + 1]))
                    pos = next_start + 1
                    continue
                break
            if not buf.startswith(b"10=", body_end) or buf[frame_end - 1] != 1:
                pos = self._skip(out, buf, GarbledReason.BAD_BODY_LENGTH,
                                 f"no CheckSum where BodyLength {body_length} ends the body",
                                 start)
                continue
            out.append(_verify_and_parse(buf[start:frame_end], body_start - start))
            pos = frame_end
        self._buf = buf[pos:] if pos < end else b""
        return out

    @staticmethod
    def _skip(out: list[FixMessage | Garbled], buf: bytes, reason: GarbledReason, detail: str,
              start: int) -> int:
        """Report a bad frame at `start` and return where to look for the next one."""
        next_start = buf.find(_BEGIN, start + 1)
        stop = len(buf) if next_start < 0 else next_start
        out.append(_garbled(reason, detail, buf[start:stop]))
        return stop


def _verify_and_parse(frame: bytes, body_offset: int) -> FixMessage | Garbled:
    """Check MsgType position and CheckSum of a length-delimited frame, then split it."""
    if not frame.startswith(b"35=", body_offset):
        return _garbled(GarbledReason.BAD_FIELD_ORDER, "MsgType(35) is not the third field",
                        frame)
    declared = frame[-4:-1]
    if not declared.isdigit():
        return _garbled(GarbledReason.BAD_CHECKSUM, f"CheckSum is not a number: {declared!r}",
                        frame)
    # Sum the whole frame in one pass and take the trailer back out: `1`,`0`,`=`,SOH
    # are 159, plus the three declared digits.
    actual = (byte_sum(frame) - 159 - declared[0] - declared[1] - declared[2]) & 0xFF
    if int(declared) != actual:
        return _garbled(GarbledReason.BAD_CHECKSUM,
                        f"CheckSum {declared.decode()} but computed {actual:03d}", frame)
    return _split(frame)


def _split(frame: bytes) -> FixMessage | Garbled:
    tokens = frame[:-1].replace(SOH, b"=").split(b"=")
    # As many tokens as two per SOH means as many `=` as SOH: one `=` per field. Tags
    # are not checked for digits here: a non-numeric tag in a well-framed message is
    # answered with a session Reject (invalid tag number), which `FixMessage.fields`
    # raises for, not treated as line noise.
    n = len(tokens)
    if n == 2 * frame.count(SOH):
        index = {tokens[i]: tokens[i + 1] for i in range(0, n, 2)}
        if len(index) * 2 != n:
            index = _first_occurrences(tokens)
        if index.keys().isdisjoint(_CAREFUL_KEYS):
            return FixMessage(frame, tokens, index)
    return _split_carefully(frame)


def _first_occurrences(tokens: list[bytes]) -> dict[bytes, bytes]:
    index: dict[bytes, bytes] = {}
    for i in range(len(tokens) - 2, -1, -2):
        index[tokens[i]] = tokens[i + 1]
    return index


def _split_carefully(frame: bytes) -> FixMessage | Garbled:
    """Field by field, honouring length-prefixed data fields whose value may hold SOH."""
    tokens: list[bytes] = []
    pos = 0
    end = len(frame)
    data_length: int | None = None
    data_key = b""
    while pos < end:
        eq = frame.find(b"=", pos)
        if eq <= pos:
            return _garbled(GarbledReason.MALFORMED_FIELD, f"no tag=value at offset {pos}", frame)
        tag = frame[pos:eq]
        if not tag.isdigit():
            return _garbled(GarbledReason.MALFORMED_FIELD,
                            f"tag is not a number at offset {pos}: {tag!r}", frame)
        if data_length is not None and tag == data_key:
            value_end = eq + 1 + data_length
            if value_end >= end or frame[value_end] != 1:
                return _garbled(GarbledReason.MALFORMED_FIELD,
                                f"data field {tag.decode()} does not match its length", frame)
        else:
            value_end = frame.find(SOH, eq + 1)
            if value_end < 0:
                return _garbled(GarbledReason.MALFORMED_FIELD, "field not terminated", frame)
        value = frame[eq + 1 : value_end]
        tokens.append(tag)
        tokens.append(value)
        data_length = None
        data_tag = _DATA_KEYS_BY_LENGTH.get(tag)
        if data_tag is not None:
            if not value.isdigit():
                return _garbled(GarbledReason.MALFORMED_FIELD,
                                f"length field {tag.decode()} is not a number", frame)
            data_length = int(value)
            data_key = tag_key(data_tag)
        pos = value_end + 1
    return FixMessage(frame, tokens, _first_occurrences(tokens))


def decode_frame(frame: bytes, begin_string: bytes = b"FIX.4.2") -> FixMessage:
    """Decode exactly one complete frame.

    Raises:
        GarbledMessageError: the bytes are not exactly one valid frame; `.reason` says why.
    """
    decoder = FrameDecoder(begin_string)
    results = decoder.feed(frame)
    if decoder.buffered:
        results.append(_garbled(GarbledReason.BAD_BODY_LENGTH, "incomplete frame", frame))
    if len(results) == 1 and isinstance(results[0], FixMessage):
        return results[0]
    problem = next((r for r in results if isinstance(r, Garbled)), None)
    if problem is None:
        problem = _garbled(GarbledReason.GARBAGE, "more than one frame", frame)
    raise GarbledMessageError(problem.detail, reason=problem.reason.value)


def split_fields(data: bytes, separator: bytes = SOH) -> list[tuple[int, bytes]]:
    """Split `tag=value` fields without verifying anything (for logs and tools).

    Fields that are not `tag=value` with a numeric tag are skipped.
    """
    fields: list[tuple[int, bytes]] = []
    for part in data.split(separator):
        tag, eq, value = part.partition(b"=")
        tag = tag.strip()
        if eq and tag.isdigit():
            fields.append((int(tag), value))
    return fields
