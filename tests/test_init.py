"""`fixrouter.compiled_modules`: a compiled extension never runs a source it was not built from."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from fixrouter import compiled_modules

SO = ".cpython-311-x86_64-linux-gnu.so"


def _package(root: Path, source: bytes = b"X = 1\n", *, built: bool = True) -> Path:
    package = root / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "sub" / "mod.py").write_bytes(source)
    (package / "sub" / f"mod{SO}").write_bytes(b"\x7fELF")
    if built:
        digest = hashlib.sha256(source).hexdigest()
        (package / "_compiled.json").write_text(json.dumps({"pkg/sub/mod.py": digest}))
    return package


def test_an_extension_built_from_the_current_source_is_listed(tmp_path: Path) -> None:
    assert compiled_modules(_package(tmp_path)) == {"pkg.sub.mod"}


def test_an_edited_source_refuses_the_import_and_says_how_to_rebuild(tmp_path: Path) -> None:
    package = _package(tmp_path)
    (package / "sub" / "mod.py").write_bytes(b"X = 2\n")
    with pytest.raises(ImportError, match=r"pkg/sub/mod\.py, which changed.*make build"):
        compiled_modules(package)


def test_an_extension_without_a_manifest_refuses_the_import(tmp_path: Path) -> None:
    with pytest.raises(ImportError, match="no build manifest"):
        compiled_modules(_package(tmp_path, built=False))


def test_a_pure_install_lists_nothing(tmp_path: Path) -> None:
    package = _package(tmp_path)
    (package / "sub" / f"mod{SO}").unlink()
    assert compiled_modules(package) == frozenset()
