"""fixrouter: a FIX 4.2 CTCI order-routing engine for Interactive Brokers.

The order path's modules are compiled to C by mypyc when the package is installed (see
setup.py). This module is never compiled: it checks, once at import, that every compiled
extension was built from the source beside it. Python prefers an extension to a `.py` of
the same name, so after an edit without a rebuild it would silently run the old code.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

__version__ = "0.1.0"

_PACKAGE = Path(__file__).resolve().parent


def _read_manifest(manifest_path: Path) -> dict[str, str]:
    try:
        text = manifest_path.read_text()
    except FileNotFoundError:
        return {}
    manifest: dict[str, str] = json.loads(text)
    return manifest


def compiled_modules(package: Path = _PACKAGE) -> frozenset[str]:
    """Names of the modules of `package` that run compiled, checked against their sources.

    Raises:
        ImportError: an extension was built from a source that has changed since, or an
            extension has no manifest to check it against.
    """
    manifest = _read_manifest(package / "_compiled.json")
    if not manifest:
        orphans = list(package.rglob("*.cpython-*.so"))
        if orphans:
            raise ImportError(
                f"fixrouter: {orphans[0]} has no build manifest (_compiled.json), so it "
                "cannot be checked against its source; run `make build` or `make pure`"
            )
        return frozenset()
    names = set()
    for path, digest in manifest.items():
        source = package.parent / path
        extensions = list(source.parent.glob(source.stem + ".cpython-*.so"))
        if not extensions:
            continue  # a pure install (FIXROUTER_PURE=1) after a compiled one
        if not source.exists() or hashlib.sha256(source.read_bytes()).hexdigest() != digest:
            raise ImportError(
                f"fixrouter: the compiled extension {extensions[0].name} is older than "
                f"{path}, which changed after the last build; run `make build` to "
                "recompile, or `make pure` to run every module from source"
            )
        names.add(path.removesuffix(".py").replace("/", "."))
    return frozenset(names)


COMPILED_MODULES: frozenset[str] = compiled_modules()
"""Modules running as mypyc-compiled C (empty for a pure install), e.g. for `fixrouter bench`."""
