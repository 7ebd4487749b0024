"""Checking messages against the dictionary: before we send, and when IB sends.

Theory of operation
-------------------
House rule 9: the check on the hot path must cost next to nothing. `CompiledValidator`
therefore compiles the dictionary once into, per message type, a dict from each tag the
body may carry at the top level to its value check (None for free text), and the frozenset
of required tags. A value check is membership in a frozenset of allowed enum values or a
syntax check from `formats`.

`validate_outbound` runs in two tiers:

1. The fast tier makes one pass over the body: each tag is looked up in the message's
   dict (absent: not allowed here) and its value checked, or, for free text, tested for
   emptiness and SOH. Then one C-level set of the tags answers "none repeated" (the set is
   as long as the body) and "all required present" (a subset test). A group's count tag
   maps to a check that always fails, so a body with a group never passes here. A body
   that passes is valid; for a 13-field NewOrderSingle this costs about 1.5 us on the
   development machine, most of it the per-field checks
   (`test_validator.py::test_outbound_cost` prints the figure).
2. The thorough tier walks the fields in order, entering repeating groups (delimiter
   first, count matching the entries, required fields per entry, nested groups), and
   names the first problem. It runs only when the body has a group or the fast tier
   found something wrong, so error reporting costs nothing when there is no error.

`check_inbound` uses the thorough tier on a received message and classifies the first
problem as a FIX 4.2 SessionRejectReason with its RefTagID, ready for a Reject (35=3).

`check_inbound_message` is the session's entry point, and has a fast tier of its own for
received messages: per message type, a dict from each tag *as its bytes on the wire*
(header, trailer and top-level body tags) to the same kind of value check, and the
frozenset of required tags as bytes. One pass over the decoded message's tag index, with
no int conversion and no field list, then one subset test of the index's keys. It may
only say "valid": anything it is not sure of (a repeated tag, a tag not written the
canonical way, a group, a value that fails its check, a missing required tag, an unknown
tag in strict mode) sends the message to `check_inbound` on the full field list, which
names the problem. So its verdicts are `check_inbound`'s by construction;
`tests/dictionary/test_inbound_fast.py` checks that on mutated messages. A message whose
sequence of tags passed before (IB sends a handful per type) skips the per-tag look-ups:
its tags' checks are already known and its required tags present, so only the values are
checked: the shape's `_Plan` lists the positions of each kind of check, with the allowed
values of each enum at hand, and leaves out what the shape alone decides (an unknown tag's
spelling; MsgType, which selected the plan). A shape is found by its tags joined with `=`
(a byte that no tag holds), one hash and one compare where a tuple of the tags compared
each tag again.
Header and trailer fields may be passed along with the body; their values are checked
but their presence is the session layer's business. By default a received tag that the
dictionary does not define for the message is ignored, not rejected: IB adds fields at
will, and rejecting an execution report over one would lose a fill. `strict_inbound=True`
rejects them, as QuickFIX's `ValidateUserDefinedFields=Y` does.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Final, NamedTuple, cast

from mypy_extensions import mypyc_attr

from fixrouter.codec import FixMessage
from fixrouter.errors import LocalProtocolError

from .formats import (
    UTC_TIMESTAMP,
    UTC_TIMESTAMP_SECOND,
    Checker,
    checker_for,
    excludes_empty_and_soh,
    expected_syntax,
    is_decimal,
)
from .model import Dictionary, FieldSet, GroupSpec

# An int, not b"\x01": `int in bytes` is a memchr, ten times faster than a substring
# search through the buffer protocol, and this test runs on every free-text field.
_SOH: Final = 0x01
_MSG_TYPE: Final = 35
_MSG_TYPE_KEY: Final = b"35"
_EQ: Final = b"="
_MAX_LISTED_VALUES: Final = 12  # enum values quoted in an error message
_first: Final = itemgetter(0)
_UTC_SECOND: Final = UTC_TIMESTAMP_SECOND.fullmatch


class SessionRejectReason(enum.IntEnum):
    """SessionRejectReason (373) values this module reports.

    0 to 11 are FIX 4.2's. 13 and 16 are FIX 4.3's, which FIX 4.2 lacks words for;
    QuickFIX, speaking 4.2, keeps such a reason in Text(58) and leaves 373 out.
    """

    INVALID_TAG_NUMBER = 0
    REQUIRED_TAG_MISSING = 1
    TAG_NOT_DEFINED_FOR_MESSAGE = 2
    TAG_WITHOUT_VALUE = 4
    VALUE_INCORRECT = 5
    INCORRECT_DATA_FORMAT = 6
    INVALID_MSG_TYPE = 11
    TAG_APPEARS_MORE_THAN_ONCE = 13
    INCORRECT_NUM_IN_GROUP = 16

    @property
    def in_fix42(self) -> bool:
        """Whether FIX 4.2 defines this value for SessionRejectReason (373)."""
        return self.value <= SessionRejectReason.INVALID_MSG_TYPE


class InboundProblem(NamedTuple):
    """Why a received message must be rejected: what a Reject (35=3) needs."""

    ref_tag: int
    reason: SessionRejectReason
    text: str


@dataclass(frozen=True, slots=True)
class _CompiledSet:
    """A FieldSet as the validator needs it: frozensets and dicts, no tuples to scan."""

    allowed: frozenset[int]
    required: tuple[int, ...]  # in dictionary order, so the first missing one is reported
    required_set: frozenset[int]
    groups: Mapping[int, _CompiledGroup]


@dataclass(frozen=True, slots=True)
class _CompiledGroup:
    count_tag: int
    name: str
    delimiter: int
    entry: _CompiledSet


@dataclass(frozen=True, slots=True)
class _CompiledMessage:
    label: str  # "NewOrderSingle (35=D)", for error messages
    body: _CompiledSet
    # Every top-level tag to its value check, None for free text. A group's count tag
    # maps to `_never`, so a body with a group always takes the thorough tier.
    fast_checks: Mapping[int, Checker | None]


# How the inbound fast tier checks a field's value (see `_InboundFast`).
_FREE: Final = 0  # free text: non-empty, no SOH
_ENUM: Final = 1  # membership in `_InboundFast.enums[tag]`
_DIGITS: Final = 2  # `bytes.isdigit` (SEQNUM, LENGTH, TAGNUM)
_DECIMAL: Final = 3  # `formats.is_decimal`, called directly (both compiled)
_TIMESTAMP: Final = 4  # the UTCTIMESTAMP syntax, through the one-second cache
_CALL: Final = 5  # `_InboundFast.calls[tag](value)`
_NEVER: Final = 6  # a group's count tag: the walk must handle the message
_UNKNOWN: Final = -1  # not in the table
_ZERO_DIGIT: Final = 0x30
_POINT: Final = 0x2E
_SECOND_LEN: Final = 17  # `YYYYMMDD-HH:MM:SS`
# Tag sequences remembered per message type (IB sends a handful: New, fill, cancel...);
# a peer that varies them endlessly fills the table once and then takes the full pass.
_MAX_SHAPES: Final = 32


# Syntax checks the inbound fast tier runs inline, found by identity (equality, for the
# bound `fullmatch` of the UTCTIMESTAMP pattern, which `formats` holds per type name).
_INLINE_SYNTAX: dict[Checker, int] = {
    bytes.isdigit: _DIGITS,
    is_decimal: _DECIMAL,
    UTC_TIMESTAMP.fullmatch: _TIMESTAMP,
}


@dataclass(frozen=True, slots=True)
class _InboundFast:
    """A message type's inbound fast tier (see the module docstring).

    `kinds` maps every tag the message may carry outside groups (header, trailer, body),
    as its bytes on the wire, to how its value is checked; `enums` and `calls` hold the
    allowed values and the checks those kinds need.
    """

    kinds: dict[bytes, int]
    enums: dict[bytes, frozenset[bytes]]
    calls: dict[bytes, Checker]
    required: tuple[bytes, ...]
    # Sequences of tags that passed (at most `_MAX_SHAPES`), joined with `=`, to the checks
    # of their values.
    shapes: dict[bytes, _Plan]


class _Plan:
    """The value checks of one sequence of tags that passed, by position in the message:
    everything `_value_ok` would run on those tags, sorted by kind."""

    __slots__ = ("calls", "decimals", "digits", "enums", "free", "timestamps")

    def __init__(self) -> None:
        self.enums: list[tuple[int, frozenset[bytes]]] = []
        self.free: list[int] = []
        self.digits: list[int] = []
        self.decimals: list[int] = []
        self.timestamps: list[int] = []
        self.calls: list[tuple[int, Checker]] = []


def _canonical_unknown(tag: bytes) -> bool:
    """Digits without a leading zero: `int()` of it is the only tag these bytes can be."""
    return tag.isdigit() and tag[0] != _ZERO_DIGIT


def _compile_set(field_set: FieldSet) -> _CompiledSet:
    return _CompiledSet(
        allowed=field_set.tags,
        required=tuple(tag for tag in field_set.order if tag in field_set.required),
        required_set=field_set.required,
        groups={tag: _compile_group(group) for tag, group in field_set.groups.items()},
    )


def _compile_group(group: GroupSpec) -> _CompiledGroup:
    return _CompiledGroup(group.count_tag, group.name, group.delimiter, _compile_set(group.entry))


def _never(value: bytes) -> bool:
    return False


def _enum_check(allowed: frozenset[bytes], multiple: bool) -> Checker:
    if not multiple:
        return allowed.__contains__

    def check_each(value: bytes) -> bool:
        return all(part in allowed for part in value.split(b" "))

    return check_each


# Subclassable from interpreted code (tests count or refuse calls); mypyc forbids it otherwise.
@mypyc_attr(allow_interpreted_subclasses=True)
class CompiledValidator:
    """The dictionary compiled into set look-ups. Build once at start-up, share freely."""

    __slots__ = (
        "_data_tags",
        "_dictionary",
        "_enums",
        "_envelope",
        "_formats",
        "_good_second",
        "_good_second_before",
        "_inbound",
        "_messages",
        "_multi_value",
        "_strict_inbound",
    )

    def __init__(self, dictionary: Dictionary, *, strict_inbound: bool = False) -> None:
        self._dictionary = dictionary
        self._strict_inbound = strict_inbound
        self._envelope = dictionary.header.all_tags() | dictionary.trailer.all_tags()
        self._data_tags = frozenset(
            tag for tag, field in dictionary.fields.items() if field.type.upper() == "DATA"
        )
        self._multi_value = frozenset(
            tag
            for tag, field in dictionary.fields.items()
            if field.type.upper().startswith("MULTIPLE")
        )
        self._enums: dict[int, frozenset[bytes]] = {}
        self._formats: dict[int, Checker] = {}
        value_checks: dict[int, Checker] = {}
        for tag, field in dictionary.fields.items():
            syntax = checker_for(field.type)
            if syntax is not None:
                self._formats[tag] = syntax
            if field.values:
                allowed = frozenset(value.encode("latin-1") for value in field.values)
                self._enums[tag] = allowed
                # An allowed enum value is well-formed by construction, so membership is
                # the whole check on the fast tier.
                value_checks[tag] = _enum_check(allowed, tag in self._multi_value)
            elif syntax is not None:
                value_checks[tag] = syntax
        self._messages: dict[bytes, _CompiledMessage] = {}
        for spec in dictionary.messages.values():
            body = _compile_set(spec.body)
            fast_checks: dict[int, Checker | None] = {
                tag: _never if tag in body.groups else value_checks.get(tag) for tag in body.allowed
            }
            self._messages[spec.msg_type.encode("latin-1")] = _CompiledMessage(
                label=f"{spec.name} (35={spec.msg_type})", body=body, fast_checks=fast_checks
            )
        # The last two UTCTIMESTAMP seconds that matched the syntax (SendingTime and
        # TransactTime of a report may straddle a second).
        self._good_second = b"-"
        self._good_second_before = b"-"
        self._inbound: dict[bytes, _InboundFast] = {}
        for msg_type, compiled in self._messages.items():
            fast = self._compile_inbound(compiled)
            if fast is not None:
                self._inbound[msg_type] = fast

    def _compile_inbound(self, compiled: _CompiledMessage) -> _InboundFast | None:
        """The inbound fast tier of one message type, decided once (module docstring)."""
        body = compiled.body
        envelope = self._envelope
        if body.required_set & envelope:
            # The walk takes such a tag as header/trailer and never counts it as present:
            # the message always fails. Leave that verdict to the walk.
            return None
        fast = _InboundFast({}, {}, {}, tuple(_key(tag) for tag in body.required), {})
        for tag in envelope | body.allowed:
            if tag not in envelope and tag in body.groups:
                fast.kinds[_key(tag)] = _NEVER
            else:
                self._compile_inbound_value(tag, fast)
        return fast

    def _compile_inbound_value(self, tag: int, fast: _InboundFast) -> None:
        """How the fast tier checks `tag`: a verdict true exactly when `_check_value(tag,
        value)` is None."""
        key = _key(tag)
        reference = self._check_value
        allowed = self._enums.get(tag)
        if allowed is not None and tag not in self._multi_value:
            # The allowed values that pass every other test too: membership is the check.
            fast.kinds[key] = _ENUM
            fast.enums[key] = frozenset(v for v in allowed if reference(tag, v) is None)
            return
        syntax = self._formats.get(tag)
        if allowed is None and tag not in self._data_tags:
            if syntax is None:
                fast.kinds[key] = _FREE
                return
            if excludes_empty_and_soh(self._dictionary.fields[tag].type):
                # The syntax check alone is the verdict; the common ones run inline.
                inline = _INLINE_SYNTAX.get(syntax)
                if inline is not None:
                    fast.kinds[key] = inline
                    return
                fast.kinds[key] = _CALL
                fast.calls[key] = syntax
                return

        def check(value: bytes) -> bool:
            return reference(tag, value) is None

        fast.kinds[key] = _CALL
        fast.calls[key] = check

    @property
    def dictionary(self) -> Dictionary:
        return self._dictionary

    def validate_outbound(self, msg_type: bytes, body: Sequence[tuple[int, bytes]]) -> None:
        """Check a message body we are about to send. Header and trailer are not part of it.

        Raises:
            LocalProtocolError: the message type is unknown, or a field is undefined for
                it, a header field, repeated, empty, malformed or not an allowed value, a
                required field is missing, or a group's count does not match its entries.
                The message names the message type, the tag and what is wrong.
        """
        compiled = self._messages.get(msg_type)
        if compiled is None:
            raise LocalProtocolError(
                f"MsgType(35)={msg_type.decode('latin-1')!r} is not defined in the dictionary"
            )
        checks = compiled.fast_checks
        try:
            for tag, value in body:
                check = checks[tag]
                if check is None:
                    if not value or _SOH in value:
                        break
                elif not check(value):
                    break
            else:
                tags = set(map(_first, body))
                if len(tags) == len(body) and compiled.body.required_set <= tags:
                    return
        except KeyError:
            pass  # a tag this message may not carry at the top level
        self._raise_outbound(compiled, body)

    def check_inbound(
        self, msg_type: bytes, fields: Sequence[tuple[int, bytes]]
    ) -> InboundProblem | None:
        """Classify a received message: the first reason to reject it, or None if valid.

        `fields` may be the body alone or the whole message; header and trailer fields
        are value-checked but not required here.
        """
        compiled = self._messages.get(msg_type)
        if compiled is None:
            return InboundProblem(
                _MSG_TYPE,
                SessionRejectReason.INVALID_MSG_TYPE,
                f"MsgType(35)={msg_type.decode('latin-1')!r} is not supported",
            )
        return self._walk_message(compiled, fields, outbound=False)

    def check_inbound_message(self, msg: FixMessage) -> InboundProblem | None:
        """`check_inbound(msg.msg_type, msg.fields)`, the same verdict, usually faster.

        Raises:
            RemoteProtocolError: a tag is not a number (from `FixMessage.fields`).
        """
        msg_type = msg.msg_type
        fast = self._inbound.get(msg_type)
        if fast is not None and not msg.has_repeated_tags():
            index = cast("dict[bytes, bytes]", msg.index)
            shape = _EQ.join(index)
            plan = fast.shapes.get(shape)
            if plan is not None:
                # These tags, in this order, passed before: their checks are known and
                # every required tag is among them. Only the values are left.
                if self._plan_ok(plan, list(index.values())):
                    return None
            elif self._fast_pass(fast, index):
                if len(fast.shapes) < _MAX_SHAPES:
                    fast.shapes[shape] = self._plan(fast, msg_type, list(index))
                return None
        return self.check_inbound(msg_type, msg.fields)

    def _plan(self, fast: _InboundFast, msg_type: bytes, tags: list[bytes]) -> _Plan:
        """The checks of a shape that passed `_fast_pass` (so every tag's kind is one that
        can pass: no group count tag, no unknown tag in strict mode)."""
        plan = _Plan()
        for position, tag in enumerate(tags):
            kind = fast.kinds.get(tag, _UNKNOWN)
            if kind == _ENUM:
                if tag == _MSG_TYPE_KEY:
                    # The message type that chose `fast`: its verdict is this plan's.
                    assert msg_type in fast.enums[tag]
                    continue
                plan.enums.append((position, fast.enums[tag]))
            elif kind == _FREE:
                plan.free.append(position)
            elif kind == _DIGITS:
                plan.digits.append(position)
            elif kind == _DECIMAL:
                plan.decimals.append(position)
            elif kind == _TIMESTAMP:
                plan.timestamps.append(position)
            elif kind == _CALL:
                plan.calls.append((position, fast.calls[tag]))
            # _UNKNOWN: the tag is spelled canonically (it passed) and its value is free.
        return plan

    def _plan_ok(self, plan: _Plan, values: list[bytes]) -> bool:
        """`_value_ok` of every value, the kinds read from the plan."""
        for position, allowed in plan.enums:
            if values[position] not in allowed:
                return False
        for position in plan.free:
            value = values[position]
            if not value or _SOH in value:
                return False
        for position in plan.digits:
            if not values[position].isdigit():
                return False
        for position in plan.decimals:
            if not is_decimal(values[position]):
                return False
        for position in plan.timestamps:
            if not self._timestamp(values[position]):
                return False
        return all(call(values[position]) for position, call in plan.calls)

    def _fast_pass(self, fast: _InboundFast, index: dict[bytes, bytes]) -> bool:
        """Every value passes its check and every required tag is present."""
        kinds = fast.kinds
        for tag, value in index.items():
            if not self._value_ok(fast, kinds.get(tag, _UNKNOWN), tag, value):
                return False
        return all(tag in index for tag in fast.required)

    def _value_ok(self, fast: _InboundFast, kind: int, tag: bytes, value: bytes) -> bool:
        """The fast tier's verdict on one field (True: `_check_value` finds nothing)."""
        if kind == _FREE:
            return len(value) > 0 and _SOH not in value
        if kind == _ENUM:
            return value in fast.enums[tag]
        if kind == _DECIMAL:
            return is_decimal(value)
        if kind == _TIMESTAMP:
            return self._timestamp(value)
        if kind == _DIGITS:
            return value.isdigit()
        if kind == _CALL:
            return bool(fast.calls[tag](value))
        if kind == _UNKNOWN:
            return not self._strict_inbound and _canonical_unknown(tag)
        return False  # a group's count tag

    def _timestamp(self, value: bytes) -> bool:
        """The UTCTIMESTAMP syntax (`formats`): the second `YYYYMMDD-HH:MM:SS` (fixed width)
        through the regex, once per second, then an optional `.sss` or `.ssssss`."""
        second = value[:_SECOND_LEN]
        if second != self._good_second and second != self._good_second_before:
            if _UTC_SECOND(second) is None:
                return False
            self._good_second_before = self._good_second
            self._good_second = second
        size = len(value)
        if size == _SECOND_LEN:
            return True
        return (size == _SECOND_LEN + 4 or size == _SECOND_LEN + 7) and (
            value[_SECOND_LEN] == _POINT and value[_SECOND_LEN + 1 :].isdigit()
        )

    def _raise_outbound(
        self, compiled: _CompiledMessage, body: Sequence[tuple[int, bytes]]
    ) -> None:
        problem = self._walk_message(compiled, body, outbound=True)
        if problem is not None:
            raise LocalProtocolError(f"{compiled.label}: {problem.text}")

    # The thorough tier. Each method returns the first problem found, or None.

    def _walk_message(
        self, compiled: _CompiledMessage, fields: Sequence[tuple[int, bytes]], outbound: bool
    ) -> InboundProblem | None:
        body_set = compiled.body
        envelope = self._envelope
        seen: set[int] = set()
        position = 0
        end = len(fields)
        while position < end:
            tag, value = fields[position]
            position += 1
            if tag in envelope:
                if outbound:
                    return InboundProblem(
                        tag,
                        SessionRejectReason.TAG_NOT_DEFINED_FOR_MESSAGE,
                        f"{self._name(tag)} is a header/trailer field and must not be in the body",
                    )
                problem = self._check_value(tag, value)
                if problem is not None:
                    return problem
                continue
            if tag not in body_set.allowed:
                if not outbound and not self._strict_inbound:
                    continue
                return self._undefined(tag)
            if tag in seen:
                return self._repeated(tag)
            seen.add(tag)
            problem = self._check_value(tag, value)
            if problem is not None:
                return problem
            group = body_set.groups.get(tag)
            if group is not None:
                position, problem = self._walk_group(group, _count(value), fields, position)
                if problem is not None:
                    return problem
        return self._missing(body_set, seen, "")

    def _walk_group(
        self,
        group: _CompiledGroup,
        count: int,
        fields: Sequence[tuple[int, bytes]],
        position: int,
    ) -> tuple[int, InboundProblem | None]:
        """Walk the entries following a NumInGroup field; return where the group ends."""
        entry_set = group.entry
        end = len(fields)
        entries = 0
        while position < end and fields[position][0] == group.delimiter:
            entries += 1
            where = f" in entry {entries} of group {group.name}({group.count_tag})"
            seen: set[int] = set()
            while position < end:
                tag, value = fields[position]
                if tag not in entry_set.allowed:
                    break
                if tag in seen:
                    if tag == group.delimiter:
                        break  # the next entry starts
                    return position, self._repeated(tag, where)
                seen.add(tag)
                position += 1
                problem = self._check_value(tag, value)
                if problem is not None:
                    return position, problem
                nested = entry_set.groups.get(tag)
                if nested is not None:
                    position, problem = self._walk_group(nested, _count(value), fields, position)
                    if problem is not None:
                        return position, problem
            problem = self._missing(entry_set, seen, where)
            if problem is not None:
                return position, problem
        if entries != count:
            detail = f"{self._name(group.count_tag)}={count} but {entries} entries follow"
            if position < end and fields[position][0] in entry_set.allowed:
                detail += (
                    f" (an entry must start with {self._name(group.delimiter)}, "
                    f"found {self._name(fields[position][0])})"
                )
            return position, InboundProblem(
                group.count_tag, SessionRejectReason.INCORRECT_NUM_IN_GROUP, detail
            )
        return position, None

    def _check_value(self, tag: int, value: bytes) -> InboundProblem | None:
        if not value:
            return InboundProblem(
                tag, SessionRejectReason.TAG_WITHOUT_VALUE, f"{self._name(tag)} has no value"
            )
        if _SOH in value and tag not in self._data_tags:
            return InboundProblem(
                tag,
                SessionRejectReason.INCORRECT_DATA_FORMAT,
                f"{self._name(tag)}={value!r} contains the SOH delimiter",
            )
        syntax = self._formats.get(tag)
        if syntax is not None and not syntax(value):
            field = self._dictionary.fields[tag]
            return InboundProblem(
                tag,
                SessionRejectReason.INCORRECT_DATA_FORMAT,
                f"{self._name(tag)}={_show(value)} is not {expected_syntax(field.type)} "
                f"(type {field.type})",
            )
        allowed = self._enums.get(tag)
        if allowed is None:
            return None
        parts = value.split(b" ") if tag in self._multi_value else (value,)
        for part in parts:
            if part not in allowed:
                return InboundProblem(
                    tag,
                    SessionRejectReason.VALUE_INCORRECT,
                    f"{self._name(tag)}={_show(part)} is not an allowed value "
                    f"(allowed: {self._list_values(tag)})",
                )
        return None

    def _missing(
        self, field_set: _CompiledSet, seen: set[int], where: str
    ) -> InboundProblem | None:
        if field_set.required_set <= seen:
            return None
        tag = next(tag for tag in field_set.required if tag not in seen)
        return InboundProblem(
            tag,
            SessionRejectReason.REQUIRED_TAG_MISSING,
            f"required field {self._name(tag)} is missing{where}",
        )

    def _undefined(self, tag: int) -> InboundProblem:
        if tag in self._dictionary.fields:
            return InboundProblem(
                tag,
                SessionRejectReason.TAG_NOT_DEFINED_FOR_MESSAGE,
                f"{self._name(tag)} is not defined for this message type",
            )
        return InboundProblem(
            tag,
            SessionRejectReason.INVALID_TAG_NUMBER,
            f"tag {tag} is not defined in the dictionary",
        )

    def _repeated(self, tag: int, where: str = "") -> InboundProblem:
        return InboundProblem(
            tag,
            SessionRejectReason.TAG_APPEARS_MORE_THAN_ONCE,
            f"{self._name(tag)} appears more than once{where}",
        )

    def _name(self, tag: int) -> str:
        return f"{self._dictionary.field_name(tag)}({tag})"

    def _list_values(self, tag: int) -> str:
        values = self._dictionary.fields[tag].values
        shown = [f"{value} {description}" for value, description in values.items()]
        if len(shown) > _MAX_LISTED_VALUES:
            shown = [*shown[:_MAX_LISTED_VALUES], "..."]
        return ", ".join(shown)


def _key(tag: int) -> bytes:
    return str(tag).encode("ascii")


def _show(value: bytes) -> str:
    return repr(value.decode("latin-1"))


def _count(value: bytes) -> int:
    # A count field of a non-numeric type (in some other dictionary) can match no entries.
    return int(value) if value.isdigit() else -1
