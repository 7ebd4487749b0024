"""Renders the documented QuickFIX settings template (fix/sim.cfg) into the file QuickFIX reads.

The template is an ordinary QuickFIX settings file with `${name}` placeholders for what
changes per run: port, data directory, dictionary and CompIDs. A `[SESSION]` block that
mentions `${target_comp_id}` is written once per target CompID, which is how one simulator
process hosts several acceptor sessions (IB hands a firm several CTCI sessions). The
rendered file is kept in the data directory so a run can be inspected afterwards.
"""

from __future__ import annotations

import string
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from fixrouter.errors import ConfigError

# src/fixrouter/sim/settings.py -> parents[3] is the repository root in a source checkout.
_REPO_ROOT = Path(__file__).resolve().parents[3]
_INSTALLED_ROOT = Path(sys.prefix) / "share" / "fixrouter"


def find_resource(relative: str) -> Path:
    """A file shipped with fixrouter: from the checkout, else from the installed share dir.

    Returns the checkout path when neither exists, so the error names the usual place.
    """
    for root in (_REPO_ROOT, _INSTALLED_ROOT):
        candidate = root / relative
        if candidate.exists():
            return candidate
    return _REPO_ROOT / relative


def default_template() -> Path:
    return find_resource("fix/sim.cfg")


def default_dictionary() -> Path:
    return find_resource("spec/fix42-ib.xml")


def render(template: str, values: Mapping[str, str], target_comp_ids: Sequence[str]) -> str:
    """Substitute `values` and repeat per-target session blocks. Raises ConfigError."""
    if not target_comp_ids:
        raise ConfigError("at least one target CompID is needed")
    if len(set(target_comp_ids)) != len(target_comp_ids):
        raise ConfigError(f"target CompIDs repeat: {', '.join(target_comp_ids)}")
    out: list[str] = []
    replicated = False
    for block in _blocks(template):
        if _uses_target(block):
            replicated = True
            out.extend(_substitute(block, {**values, "target_comp_id": t}) for t in target_comp_ids)
        else:
            out.append(_substitute(block, values))
    if len(target_comp_ids) > 1 and not replicated:
        raise ConfigError(
            "several target CompIDs were given but the settings template has no [SESSION] "
            "block using ${target_comp_id}"
        )
    return "".join(out)


def _blocks(text: str) -> list[str]:
    """Split at section headers, keeping each header with the lines that follow it."""
    blocks: list[str] = [""]
    for line in text.splitlines(keepends=True):
        if line.startswith("["):
            blocks.append("")
        blocks[-1] += line
    return blocks


def _uses_target(block: str) -> bool:
    return any(
        "${target_comp_id}" in line
        for line in block.splitlines()
        if not line.lstrip().startswith("#")
    )


def _substitute(block: str, values: Mapping[str, str]) -> str:
    try:
        return string.Template(block).substitute(values)
    except KeyError as e:
        raise ConfigError(
            f"settings template uses unknown placeholder ${{{e.args[0]}}} "
            f"(known: {', '.join(sorted(values))})"
        ) from None
    except ValueError as e:
        raise ConfigError(f"settings template: bad placeholder: {e}") from None
