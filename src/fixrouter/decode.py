"""`fixrouter decode`: print FIX messages from a log so that people can read them.

Theory of operation
-------------------
Input is read as bytes, line by line, from a file or stdin. Each line is split into an
optional *prefix* and one or more messages; a message starts at `8=FIX`. The prefix is
whatever a logger wrote before the message (QuickFIX's FileLog writes
`YYYYMMDD-HH:MM:SS.sss : `; fixrouter's own log adds a direction) and is shown as it is, so
timestamps and directions survive in any format. Separators are normalised to SOH: a line
that holds no SOH but holds `^A` or `|` uses those instead. A raw SOH stream with no line
breaks is one long line holding many messages, which the split at `8=FIX` handles.

Each message is verified with the codec (`decode_frame`: BeginString, BodyLength,
CheckSum). A message that fails is still printed, from an unverified split, under a flag
saying what failed: a log is most worth reading exactly when something went wrong.

Fields print as `Name(tag)=value (DESCRIPTION)` using the data dictionary, one per line with
repeating-group entries indented under their count, or all on one line with `--compact`.
Secrets never reach the output: Password(554), NewPassword(925), RawData(96), SecureData(91)
and any field whose name mentions a password, token or secret print as `****`.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

from fixrouter.codec import GroupDef, decode_frame, split_fields
from fixrouter.dictionary import Dictionary, load_dictionary
from fixrouter.errors import ConfigError, GarbledMessageError
from fixrouter.logs.redact import MASK, secret_tags

SOH = b"\x01"
_NAMES_BEYOND_FIX42 = {554: "Password", 925: "NewPassword"}
_MESSAGE_START = re.compile(rb"(?:^|(?<=\x01))8=FIX")
_INDENT = "  "
_BEGIN_STRING = 8
_MSG_TYPE = 35


@dataclass(frozen=True, slots=True)
class LoggedMessage:
    """One message found in the input: the logger's prefix, its fields, what failed."""

    prefix: str
    fields: list[tuple[int, bytes]]
    problem: str | None  # None when BeginString, BodyLength and CheckSum all verified

    @property
    def msg_type(self) -> bytes | None:
        return next((value for tag, value in self.fields if tag == _MSG_TYPE), None)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path",
        nargs="?",
        default="-",
        help="FIX log to read: one message per line, or a raw SOH stream ('-' or none: stdin)",
    )
    parser.add_argument("--compact", action="store_true", help="print each message on one line")
    parser.add_argument(
        "--filter",
        metavar="MSGTYPE",
        action="append",
        default=[],
        help="only messages of this type, by MsgType or name (D, NewOrderSingle); repeatable, "
        "or comma-separated",
    )
    parser.add_argument(
        "--dictionary",
        metavar="XML",
        default=None,
        help="QuickFIX-format data dictionary (default: the project's spec/fix42-ib.xml)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        dictionary = load_dictionary(args.dictionary)
    except ConfigError as exc:
        print(f"fixrouter decode: {exc}", file=sys.stderr)
        return 2
    try:
        wanted = resolve_filter(dictionary, args.filter)
    except ValueError as exc:
        print(f"fixrouter decode: {exc}", file=sys.stderr)
        return 2
    formatter = Formatter(dictionary, compact=args.compact)
    try:
        if args.path == "-":
            decode_stream(sys.stdin.buffer, formatter, sys.stdout, wanted)
        else:
            with Path(args.path).open("rb") as source:
                decode_stream(source, formatter, sys.stdout, wanted)
    except BrokenPipeError:
        # The reader went away (`fixrouter decode LOG | head`): that is not an error. Point
        # stdout at /dev/null so the interpreter's final flush does not complain again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 0
    except OSError as exc:
        print(f"fixrouter decode: cannot read {args.path}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


def resolve_filter(dictionary: Dictionary, requested: Sequence[str]) -> frozenset[bytes] | None:
    """The MsgType values to keep, or None for all.

    Raises:
        ValueError: a requested type is neither a MsgType nor a message name it defines.
    """
    if not requested:
        return None
    by_name = {spec.name.lower(): msg_type for msg_type, spec in dictionary.messages.items()}
    wanted: set[bytes] = set()
    for item in (part.strip() for entry in requested for part in entry.split(",")):
        if not item:
            continue
        if item in dictionary.messages:
            wanted.add(item.encode())
        elif item.lower() in by_name:
            wanted.add(by_name[item.lower()].encode())
        else:
            raise ValueError(f"--filter {item!r} is neither a MsgType nor a message name")
    return frozenset(wanted)


def decode_stream(
    source: BinaryIO,
    formatter: Formatter,
    out: TextIO,
    wanted: frozenset[bytes] | None = None,
) -> int:
    """Print every message in `source`; return how many were printed."""
    printed = 0
    for message in read_messages(source):
        if wanted is not None and message.msg_type not in wanted:
            continue
        out.write(formatter.format(message))
        printed += 1
    return printed


def read_messages(lines: Iterable[bytes]) -> Iterator[LoggedMessage]:
    """Every message in a log, in order. Lines without a message are skipped."""
    for raw_line in lines:
        line = raw_line.rstrip(b"\r\n")
        first = line.find(b"8=FIX")
        if first < 0:
            continue
        prefix = line[:first].decode("utf-8", "replace").strip().rstrip(":").strip()
        text = _normalise_separators(line[first:])
        starts = [match.start() for match in _MESSAGE_START.finditer(text)]
        for start, end in zip(starts, [*starts[1:], len(text)], strict=True):
            yield _parse(prefix, text[start:end])


def _normalise_separators(text: bytes) -> bytes:
    if SOH in text:
        return text
    if b"^A" in text:
        return text.replace(b"^A", SOH)
    if b"|" in text:
        return text.replace(b"|", SOH)
    return text


def _parse(prefix: str, frame: bytes) -> LoggedMessage:
    # A log line may end in the separator or not; the frame must.
    if not frame.endswith(SOH):
        frame += SOH
    unverified = split_fields(frame)
    begin_string = next((value for tag, value in unverified if tag == _BEGIN_STRING), b"")
    try:
        message = decode_frame(frame, begin_string)
    except GarbledMessageError as exc:
        return LoggedMessage(prefix, unverified, f"{exc.reason}: {exc}")
    return LoggedMessage(prefix, list(message.fields), None)


class Formatter:
    """Renders messages with field names, enum descriptions, groups and masked secrets."""

    def __init__(self, dictionary: Dictionary, *, compact: bool = False) -> None:
        self._dictionary = dictionary
        self._compact = compact
        self._secret = secret_tags(dictionary)

    def format(self, message: LoggedMessage) -> str:
        msg_type = message.msg_type
        title = self._title(message, msg_type)
        groups = self._dictionary.group_defs(msg_type) if msg_type is not None else {}
        rendered = list(self._layout(message.fields, groups))
        if self._compact:
            parts = [("- " if entry_start else "") + text for _, entry_start, text in rendered]
            return f"{title}  " + " | ".join(parts) + "\n"
        lines = [title]
        for depth, entry_start, text in rendered:
            # An entry's "- " sits one indent right of its count field's name, so each
            # level of nesting adds two indents.
            marker = "- " if entry_start else "  " if depth else ""
            lines.append(_INDENT * max(1, 2 * depth) + marker + text)
        return "\n".join(lines) + "\n\n"

    def _title(self, message: LoggedMessage, msg_type: bytes | None) -> str:
        parts = [message.prefix] if message.prefix else []
        if msg_type is None:
            parts.append("(no MsgType)")
        else:
            name = self._dictionary.message_name(msg_type)
            parts.append(f"{name} (35={msg_type.decode('latin-1')})")
        if message.problem is not None:
            parts.append(f"[NOT VERIFIED: {message.problem}]")
        return "  ".join(parts)

    def _layout(
        self, fields: list[tuple[int, bytes]], groups: Mapping[int, GroupDef]
    ) -> Iterator[tuple[int, bool, str]]:
        """(depth, starts a group entry, text) per field, following the group layout.

        `stack` holds the groups currently open, innermost last; a field that belongs to
        none of them closes them, and a delimiter starts a new entry of its group.
        """
        stack: list[GroupDef] = []
        for tag, value in fields:
            while stack and tag not in _entry_tags(stack[-1]):
                stack.pop()
            entry_start = bool(stack) and tag == stack[-1].delimiter
            yield len(stack), entry_start, self._field(tag, value)
            opened = (stack[-1].nested if stack else groups).get(tag)
            if opened is not None:
                stack.append(opened)

    def _field(self, tag: int, value: bytes) -> str:
        field = self._dictionary.field(tag)
        name = field.name if field is not None else _NAMES_BEYOND_FIX42.get(tag, f"Tag{tag}")
        if tag in self._secret:
            return f"{name}({tag})={MASK}"
        shown = _printable(value)
        if field is None or not field.values:
            return f"{name}({tag})={shown}"
        multiple = field.type.upper().startswith("MULTIPLE")
        parts = shown.split(" ") if multiple else [shown]
        descriptions = [field.values.get(part) for part in parts]
        if any(description is None for description in descriptions):
            return f"{name}({tag})={shown} (not in dictionary)"
        return f"{name}({tag})={shown} ({' '.join(d for d in descriptions if d)})"


def _entry_tags(group: GroupDef) -> frozenset[int]:
    return group.members | frozenset(group.nested)


def _printable(value: bytes) -> str:
    text = value.decode("latin-1")
    if text.isprintable():
        return text
    # Control bytes (SOH inside data fields, stray CRs) would garble the terminal.
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)
