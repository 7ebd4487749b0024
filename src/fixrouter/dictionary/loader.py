"""Loading a QuickFIX-format XML data dictionary.

Theory of operation: the file is read once with `xml.etree` into a `Dictionary` (see
`model`). `<fields>` is read first so every later reference by name can be resolved and
checked; then header, trailer and each message are walked in document order. A
`<component>` reference is expanded in place, so the model never mentions components; a
component that is not required makes its members optional. Anything the dictionary gets
wrong (an unknown field name, a duplicate tag, a group without members) is a `ConfigError`
naming the file and the element, because a broken dictionary must stop start-up.

`default_dictionary_path()` finds the project's own `spec/fix42-ib.xml` in a source checkout
or, in an installed copy, under `<sys.prefix>/share/fixrouter/spec/`.
"""

from __future__ import annotations

import functools
import os
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType
from typing import NoReturn

from fixrouter.errors import ConfigError

from .model import Dictionary, FieldDef, FieldSet, GroupSpec, MessageSpec, MsgCategory

DICTIONARY_FILE = "fix42-ib.xml"

# Nesting deeper than this can only come from a component that includes itself.
_MAX_DEPTH = 16


def default_dictionary_path() -> Path:
    """Where the project's FIX dictionary is: the checkout's `spec/`, else the installed copy.

    Raises:
        ConfigError: neither location holds the file.
    """
    candidates = (
        Path(__file__).resolve().parents[3] / "spec" / DICTIONARY_FILE,
        Path(sys.prefix) / "share" / "fixrouter" / "spec" / DICTIONARY_FILE,
    )
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"FIX dictionary {DICTIONARY_FILE} not found; looked in "
        + " and ".join(str(c) for c in candidates)
    )


def load_dictionary(path: str | os.PathLike[str] | None = None) -> Dictionary:
    """Load (once per file) and return the dictionary at `path`, or the default one.

    Raises:
        ConfigError: the file is missing, is not well-formed XML, or is not a valid
            QuickFIX dictionary; the message names the file and the offending element.
    """
    resolved = default_dictionary_path() if path is None else Path(path).resolve()
    return _load_cached(resolved)


@functools.lru_cache(maxsize=8)
def _load_cached(path: Path) -> Dictionary:
    try:
        root = ET.parse(path).getroot()
    except FileNotFoundError:
        raise ConfigError(f"FIX dictionary {path} does not exist") from None
    except ET.ParseError as exc:
        raise ConfigError(f"FIX dictionary {path} is not well-formed XML: {exc}") from None
    return _Builder(str(path), root).build()


class _Builder:
    """One pass over one XML tree. Holds the field table while messages are resolved."""

    def __init__(self, source: str, root: ET.Element) -> None:
        self._source = source
        self._root = root
        self._fields: dict[int, FieldDef] = {}
        self._by_name: dict[str, FieldDef] = {}
        self._components: dict[str, ET.Element] = {}

    def build(self) -> Dictionary:
        root = self._root
        if root.tag != "fix":
            self._fail(f"root element is <{root.tag}>, expected <fix>")
        begin_string = f"{root.get('type', 'FIX')}.{root.get('major')}.{root.get('minor')}"
        self._read_fields(self._section("fields"))
        components = root.find("components")
        if components is not None:
            for component in components.findall("component"):
                self._components[self._attr(component, "name")] = component

        header = self._field_set(self._section("header"), "<header>", depth=0)
        trailer = self._field_set(self._section("trailer"), "<trailer>", depth=0)
        messages: dict[str, MessageSpec] = {}
        for element in self._section("messages").findall("message"):
            spec = self._message(element)
            if spec.msg_type in messages:
                self._fail(f"message type {spec.msg_type!r} is defined twice")
            messages[spec.msg_type] = spec

        group_defs = {
            spec.msg_type.encode("latin-1"): MappingProxyType(
                {tag: group.to_group_def() for tag, group in spec.body.groups.items()}
            )
            for spec in messages.values()
            if spec.body.groups
        }
        return Dictionary(
            begin_string=begin_string,
            fields=MappingProxyType(self._fields),
            header=header,
            trailer=trailer,
            messages=MappingProxyType(messages),
            source=self._source,
            _by_name=MappingProxyType(self._by_name),
            _group_defs=MappingProxyType(group_defs),
        )

    def _read_fields(self, section: ET.Element) -> None:
        for element in section.findall("field"):
            number = self._attr(element, "number")
            if not number.isdigit() or int(number) == 0:
                self._fail(f"field {element.get('name')!r} has a bad number {number!r}")
            tag = int(number)
            name = self._attr(element, "name")
            if tag in self._fields:
                self._fail(f"tag {tag} is defined twice ({self._fields[tag].name}, {name})")
            if name in self._by_name:
                self._fail(f"field name {name!r} is used by tags {self._by_name[name].tag}, {tag}")
            values: dict[str, str] = {}
            for value in element.findall("value"):
                values[self._attr(value, "enum")] = value.get("description", "")
            field = FieldDef(tag, name, self._attr(element, "type"), MappingProxyType(values))
            self._fields[tag] = field
            self._by_name[name] = field

    def _message(self, element: ET.Element) -> MessageSpec:
        msg_type = self._attr(element, "msgtype")
        name = self._attr(element, "name")
        category_text = element.get("msgcat", "app")
        try:
            category = MsgCategory(category_text)
        except ValueError:
            self._fail(f"message {name} has msgcat {category_text!r}, not admin or app")
        body = self._field_set(element, f"message {name} ({msg_type})", depth=0)
        return MessageSpec(msg_type, name, category, body)

    def _field_set(self, container: ET.Element, where: str, depth: int) -> FieldSet:
        order: list[int] = []
        required: set[int] = set()
        groups: dict[int, GroupSpec] = {}
        for tag, is_required, group in self._members(container, where, depth, True):
            if tag in order:
                self._fail(f"{where} lists {self._fields[tag].name} ({tag}) twice")
            order.append(tag)
            if is_required:
                required.add(tag)
            if group is not None:
                groups[tag] = group
        return FieldSet(tuple(order), frozenset(required), MappingProxyType(groups))

    def _members(
        self, container: ET.Element, where: str, depth: int, required_context: bool
    ) -> Iterator[tuple[int, bool, GroupSpec | None]]:
        """(tag, required, group) for each child, with components expanded in place."""
        if depth > _MAX_DEPTH:
            self._fail(f"{where} nests groups or components more than {_MAX_DEPTH} deep")
        # ElementTree's default parser drops comments, so every child is an element.
        for child in container:
            name = self._attr(child, "name")
            required = required_context and child.get("required", "N") == "Y"
            if child.tag == "field":
                yield self._tag_of(name, where), required, None
            elif child.tag == "group":
                tag = self._tag_of(name, where)
                entry = self._field_set(child, f"group {name} in {where}", depth + 1)
                if not entry.order:
                    self._fail(f"group {name} in {where} has no fields")
                yield tag, required, GroupSpec(tag, name, required, entry)
            elif child.tag == "component":
                component = self._components.get(name)
                if component is None:
                    self._fail(f"{where} uses component {name!r}, which is not defined")
                yield from self._members(component, f"component {name}", depth + 1, required)
            else:
                self._fail(f"{where} has an unexpected element <{child.tag}>")

    def _tag_of(self, name: str, where: str) -> int:
        field = self._by_name.get(name)
        if field is None:
            self._fail(f"{where} refers to field {name!r}, which <fields> does not define")
        return field.tag

    def _section(self, name: str) -> ET.Element:
        section = self._root.find(name)
        if section is None:
            self._fail(f"<{name}> section is missing")
        return section

    def _attr(self, element: ET.Element, name: str) -> str:
        value = element.get(name)
        if value is None:
            self._fail(f"<{element.tag}> element lacks the {name!r} attribute")
        return value

    def _fail(self, problem: str) -> NoReturn:
        raise ConfigError(f"FIX dictionary {self._source}: {problem}")
