"""deploy/README.md and deploy/runbook.md stay in step with the kit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .kit import DEPLOY, DOCUMENTED, README, RUNBOOK, github_anchor, runbook_anchors


def test_readme_documents_exactly_the_metric_contract() -> None:
    table = set(re.findall(r"^\| `(fixrouter_[a-z0-9_]+)` \|", README.read_text(), re.M))
    assert table == DOCUMENTED


def test_readme_describes_every_file_of_the_kit() -> None:
    text = README.read_text()
    for path in sorted(DEPLOY.rglob("*")):
        if path.is_file() and path != README and "__pycache__" not in path.parts:
            rel = path.relative_to(DEPLOY).as_posix()
            assert f"]({rel})" in text, f"deploy/README.md does not describe {rel}"


def _anchors(path: Path) -> set[str]:
    return runbook_anchors(path)


@pytest.mark.parametrize("doc", [README, RUNBOOK], ids=lambda p: p.name)
def test_links_resolve(doc: Path) -> None:
    text = doc.read_text()
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if target.startswith(("http://", "https://")):
            continue
        page, _, anchor = target.partition("#")
        dest = doc if not page else (doc.parent / page).resolve()
        assert dest.exists(), f"{doc.name}: broken link {target}"
        if anchor:
            assert anchor in _anchors(dest), f"{doc.name}: no heading for #{anchor}"


def test_github_anchor() -> None:
    assert github_anchor('When IB says "MsgSeqNum too low"') == "when-ib-says-msgseqnum-too-low"
    assert github_anchor("Host tuning for co-location") == "host-tuning-for-co-location"
