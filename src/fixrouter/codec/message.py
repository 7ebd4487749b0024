"""A decoded FIX message.

Theory of operation: the decoder hands over the frame and the flat list of its field
tokens `[tag, value, tag, value, ...]` (both as bytes, exactly as on the wire). Lookups go
through a dict from tag bytes to the *first* occurrence's value, built once; the ordered
`(int, bytes)` field list is produced only when someone asks for it (validation, repeating
groups, pretty-printing), so the hot path never pays for it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final

from fixrouter.errors import RemoteProtocolError

from .tags import SOH, tag_key

# SessionRejectReason (373) values raised from here.
_INVALID_TAG_NUMBER: Final = 0
_INCORRECT_NUM_IN_GROUP: Final = 16


@dataclass(frozen=True, slots=True)
class GroupDef:
    """A repeating group as the dictionary defines it.

    `count_tag` is the NumInGroup field, `delimiter` the first field of every entry,
    `members` every tag an entry may hold (delimiter included), and `nested` the groups
    that may appear inside an entry, keyed by their count tag.
    """

    count_tag: int
    delimiter: int
    members: frozenset[int]
    nested: Mapping[int, GroupDef] = field(default_factory=dict)


FieldList = list[tuple[int, bytes]]


class FixMessage:
    """An immutable decoded message. Values are the raw bytes from the wire."""

    __slots__ = ("_fields", "_index", "_tokens", "raw")

    def __init__(self, raw: bytes, tokens: list[bytes], index: dict[bytes, bytes]) -> None:
        self.raw = raw
        self._tokens = tokens
        self._index = index
        self._fields: FieldList | None = None

    @property
    def msg_type(self) -> bytes:
        return self._index[b"35"]

    @property
    def index(self) -> Mapping[bytes, bytes]:
        """Tag bytes (e.g. `b"35"`) to the first value: the fastest lookup there is."""
        return self._index

    @property
    def fields(self) -> FieldList:
        """Every field in wire order, header and trailer included.

        Raises:
            RemoteProtocolError: a tag is not a number (SessionRejectReason 0).
        """
        if self._fields is None:
            tokens = self._tokens
            try:
                self._fields = [
                    (int(tokens[i]), tokens[i + 1]) for i in range(0, len(tokens), 2)
                ]
            except ValueError:
                bad = next(t for t in tokens[0::2] if not t.isdigit())
                raise RemoteProtocolError(
                    f"invalid tag number {bad!r}", reject_reason=_INVALID_TAG_NUMBER
                ) from None
        return self._fields

    def get(self, tag: int, default: bytes | None = None) -> bytes | None:
        return self._index.get(tag_key(tag), default)

    def __getitem__(self, tag: int) -> bytes:
        return self._index[tag_key(tag)]

    def __contains__(self, tag: object) -> bool:
        return isinstance(tag, int) and tag_key(tag) in self._index

    def get_str(self, tag: int, default: str | None = None) -> str | None:
        value = self._index.get(tag_key(tag))
        return default if value is None else value.decode("latin-1")

    def get_int(self, tag: int, default: int | None = None) -> int | None:
        """The field as an integer.

        Raises:
            RemoteProtocolError: the field is present but not an integer (reason 6).
        """
        value = self._index.get(tag_key(tag))
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise RemoteProtocolError(
                f"tag {tag} is not an integer: {value!r}", ref_tag=tag, reject_reason=6
            ) from None

    def has_repeated_tags(self) -> bool:
        """True when some tag occurs more than once (legal only inside groups)."""
        return len(self._index) * 2 != len(self._tokens)

    def group(self, group: GroupDef) -> list[FieldList]:
        """The entries of a top-level repeating group, each as an ordered field list.

        Nested groups stay inline inside their entry; call `parse_group` on an entry
        to read them.

        Raises:
            RemoteProtocolError: the NumInGroup count does not match the entries found.
        """
        return parse_group(self.fields, group)

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        return iter(self.fields)

    def __repr__(self) -> str:
        return f"FixMessage({self.raw.replace(SOH, b'|')!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FixMessage) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash(self.raw)


def parse_group(fields: FieldList, group: GroupDef) -> list[FieldList]:
    """Split the group introduced by `group.count_tag` in `fields` into its entries.

    An entry starts at each delimiter and runs while the tags belong to the group (or
    to one of its nested groups, whose fields are kept inside the entry).

    Raises:
        RemoteProtocolError: the count is not a number or does not match (reason 16).
    """
    start = next((i for i, (tag, _) in enumerate(fields) if tag == group.count_tag), None)
    if start is None:
        return []
    raw_count = fields[start][1]
    if not raw_count.isdigit():
        raise RemoteProtocolError(
            f"NumInGroup {group.count_tag} is not a count: {raw_count!r}",
            ref_tag=group.count_tag,
            reject_reason=_INCORRECT_NUM_IN_GROUP,
        )
    count = int(raw_count)
    entries: list[FieldList] = []
    allowed = _all_tags(group)
    position = start + 1
    while position < len(fields) and fields[position][0] == group.delimiter:
        entry: FieldList = [fields[position]]
        position += 1
        while (
            position < len(fields)
            and fields[position][0] in allowed
            and fields[position][0] != group.delimiter
        ):
            entry.append(fields[position])
            position += 1
        entries.append(entry)
    if len(entries) != count:
        raise RemoteProtocolError(
            f"group {group.count_tag} declares {count} entries but has {len(entries)}",
            ref_tag=group.count_tag,
            reject_reason=_INCORRECT_NUM_IN_GROUP,
        )
    return entries


def _all_tags(group: GroupDef) -> frozenset[int]:
    tags = set(group.members)
    for nested in group.nested.values():
        tags.add(nested.count_tag)
        tags |= _all_tags(nested)
    return frozenset(tags)

