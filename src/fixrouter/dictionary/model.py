"""The data dictionary as immutable values.

Theory of operation: `loader` turns a QuickFIX-format XML file into these objects once, at
start-up. They describe the protocol as written (names, types, enums, which tags a message
may carry and which it must); they are built for reading, not for speed. Hot-path users
compile what they need from them: `validator.CompiledValidator` builds per-message sets of
bytes, and `Dictionary.group_defs` hands the codec its repeating-group layouts.

A message body, the header, the trailer and each repeating-group entry share one shape,
`FieldSet`: the tags in dictionary order (a group appears as its NumInGroup tag), the
required ones, and the groups keyed by NumInGroup tag. Components are expanded by the
loader, so nothing here refers to them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from fixrouter.codec import GroupDef

_EMPTY_GROUPS: Mapping[int, GroupDef] = MappingProxyType({})


class MsgCategory(enum.Enum):
    """QuickFIX's `msgcat`: session-level (admin) or application message."""

    ADMIN = "admin"
    APP = "app"


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One field: tag number, name, FIX data type and, for enumerated fields, its values.

    `values` maps each allowed value (as it appears on the wire) to its description; it is
    empty for a field that takes any value of its type.
    """

    tag: int
    name: str
    type: str
    values: Mapping[str, str]

    def describe(self, value: str) -> str | None:
        """The enum description of `value`, or None when it has none."""
        return self.values.get(value)


@dataclass(frozen=True, slots=True)
class FieldSet:
    """The tags one container (body, header, trailer, group entry) may hold."""

    order: tuple[int, ...]
    required: frozenset[int]
    groups: Mapping[int, GroupSpec]

    @property
    def tags(self) -> frozenset[int]:
        """Tags directly in this container; a group counts as its NumInGroup tag."""
        return frozenset(self.order)

    def all_tags(self) -> frozenset[int]:
        """Every tag that may occur here, including inside groups at any depth."""
        tags = set(self.order)
        for group in self.groups.values():
            tags |= group.entry.all_tags()
        return frozenset(tags)


@dataclass(frozen=True, slots=True)
class GroupSpec:
    """A repeating group: `count_tag` is its NumInGroup field; `entry` one entry's layout.

    FIX requires every entry to start with the same field, the delimiter, which is the
    first field of the entry in the dictionary.
    """

    count_tag: int
    name: str
    required: bool
    entry: FieldSet

    @property
    def delimiter(self) -> int:
        return self.entry.order[0]

    def to_group_def(self) -> GroupDef:
        """The codec's view of this group (count tag, delimiter, members, nested)."""
        nested = {tag: group.to_group_def() for tag, group in self.entry.groups.items()}
        return GroupDef(
            count_tag=self.count_tag,
            delimiter=self.delimiter,
            members=self.entry.tags,
            nested=MappingProxyType(nested) if nested else _EMPTY_GROUPS,
        )


@dataclass(frozen=True, slots=True)
class MessageSpec:
    """One message type: `msg_type` is the MsgType(35) value, e.g. `"D"`."""

    msg_type: str
    name: str
    category: MsgCategory
    body: FieldSet


@dataclass(frozen=True, slots=True)
class Dictionary:
    """A whole FIX dictionary. Build it with `fixrouter.dictionary.load_dictionary`."""

    begin_string: str
    fields: Mapping[int, FieldDef]
    header: FieldSet
    trailer: FieldSet
    messages: Mapping[str, MessageSpec]
    source: str
    _by_name: Mapping[str, FieldDef]
    _group_defs: Mapping[bytes, Mapping[int, GroupDef]]

    def field(self, tag: int) -> FieldDef | None:
        return self.fields.get(tag)

    def field_by_name(self, name: str) -> FieldDef | None:
        return self._by_name.get(name)

    def field_name(self, tag: int) -> str:
        """The field's name, or `"Tag<n>"` for a tag the dictionary does not define."""
        field = self.fields.get(tag)
        return field.name if field is not None else f"Tag{tag}"

    def message(self, msg_type: str | bytes) -> MessageSpec | None:
        if isinstance(msg_type, bytes):
            msg_type = msg_type.decode("latin-1")
        return self.messages.get(msg_type)

    def message_name(self, msg_type: str | bytes) -> str:
        """The message's name, or `"MsgType<x>"` for a type the dictionary does not define."""
        spec = self.message(msg_type)
        if spec is not None:
            return spec.name
        shown = msg_type.decode("latin-1") if isinstance(msg_type, bytes) else msg_type
        return f"MsgType<{shown}>"

    def group_defs(self, msg_type: bytes) -> Mapping[int, GroupDef]:
        """The codec's repeating groups of a message's body, keyed by NumInGroup tag.

        Empty for a message without groups and for a type the dictionary does not define.
        """
        return self._group_defs.get(msg_type, _EMPTY_GROUPS)
