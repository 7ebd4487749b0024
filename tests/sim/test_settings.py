from __future__ import annotations

from pathlib import Path

import pytest

from fixrouter.errors import ConfigError
from fixrouter.sim import settings

REPO = Path(__file__).resolve().parents[2]
VALUES = {"port": "1234", "data_dir": "/d", "dictionary": "/x.xml", "sender_comp_id": "IB"}


def test_shipped_template_renders_one_session_per_target() -> None:
    text = settings.render((REPO / "fix" / "sim.cfg").read_text(), VALUES, ["A", "B"])
    assert text.splitlines().count("[SESSION]") == 2
    assert "TargetCompID=A\n" in text and "TargetCompID=B\n" in text
    assert "SocketAcceptPort=1234\n" in text and "DataDictionary=/x.xml\n" in text
    assert "$" not in text


def test_defaults_point_into_the_checkout() -> None:
    assert settings.default_template() == REPO / "fix" / "sim.cfg"
    assert settings.default_dictionary() == REPO / "spec" / "fix42-ib.xml"


def test_commented_placeholder_does_not_replicate_a_block() -> None:
    template = "[DEFAULT]\n# the target is set per session\nA=${port}\n[SESSION]\nTargetCompID=X\n"
    with pytest.raises(ConfigError, match="no \\[SESSION\\] block"):
        settings.render(template, VALUES, ["A", "B"])
    assert settings.render(template, VALUES, ["A"]).splitlines().count("[SESSION]") == 1


@pytest.mark.parametrize(
    ("template", "targets", "message"),
    [
        ("A=${nope}\n", ["T"], "unknown placeholder ${nope}"),
        ("A=$\n", ["T"], "bad placeholder"),
        ("[SESSION]\nTargetCompID=${target_comp_id}\n", ["T", "T"], "repeat"),
        ("", [], "at least one"),
    ],
)
def test_errors(template: str, targets: list[str], message: str) -> None:
    with pytest.raises(ConfigError) as e:
        settings.render(template, VALUES, targets)
    assert message in str(e.value)
