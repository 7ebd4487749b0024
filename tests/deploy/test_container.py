"""deploy/container/Containerfile, checked statically.

No container engine runs where these tests run, so the image is never built here
(deploy/README.md says so). What can be checked without one: the recipe's structure, that
the production install leaves the simulator out, and that what the runtime stage runs is
importable without QuickFIX.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, field

from fixrouter.cli import SUBCOMMANDS

from .kit import CONTAINERFILE


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, op: str) -> list[str]:
        return [arg for o, arg in self.instructions if o == op]


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out, pending = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        op, _, arg = line.partition(" ")
        out.append((op.upper(), arg.strip()))
    return out


def _stages() -> tuple[dict[str, str], list[Stage]]:
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for op, arg in _instructions(CONTAINERFILE.read_text()):
        if op == "FROM":
            m = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", arg, re.IGNORECASE)
            assert m, arg
            stages.append(Stage(m.group(1), m.group(2)))
        elif not stages:
            assert op == "ARG", f"{op} before the first FROM"
            name, _, default = arg.partition("=")
            args[name] = default
        else:
            stages[-1].instructions.append((op, arg))
    return args, stages


def test_multi_stage_with_one_interpreter() -> None:
    args, stages = _stages()
    assert len(stages) >= 2
    builder, runtime = stages[0], stages[-1]
    assert builder.name and runtime.name
    # The venv copied from the builder links to the builder's interpreter: same image.
    assert builder.base == runtime.base == "${PYTHON_IMAGE}"
    assert re.search(r"python:3\.11[-.]", args["PYTHON_IMAGE"])


def test_builder_installs_the_project_without_the_sim_extra() -> None:
    _, stages = _stages()
    runs = " ".join(stages[0].all("RUN"))
    assert re.search(r"pip install[^&]* \.(\s|$)", runs), runs
    assert "[sim" not in CONTAINERFILE.read_text().replace("`sim`", "")
    assert "quickfix" in runs  # the build refuses an image where QuickFIX slipped in


def test_runtime_copies_only_the_venv_and_runs_unprivileged() -> None:
    _, stages = _stages()
    runtime = stages[-1]
    copies = runtime.all("COPY")
    assert copies == [f"--from={stages[0].name} /opt/fixrouter/venv /opt/fixrouter/venv"]
    users = runtime.all("USER")
    assert users, "no USER in the final stage: it would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    assert not runtime.all("RUN") or "apt-get install" not in " ".join(runtime.all("RUN"))


def test_stop_signal_state_volume_and_nothing_exposed() -> None:
    _, stages = _stages()
    runtime = stages[-1]
    assert runtime.all("STOPSIGNAL") == ["SIGTERM"]
    assert any("/var/lib/fixrouter" in v for v in runtime.all("VOLUME"))
    assert runtime.all("EXPOSE") == []
    assert runtime.all("ENTRYPOINT") == ['["fixrouter"]']
    assert runtime.all("CMD") == ['["run", "--config", "/etc/fixrouter/router.toml"]']


def test_healthcheck_waits_for_fixrouter_status() -> None:
    """A HEALTHCHECK calling a command that does not exist marks every container unhealthy."""
    _, stages = _stages()
    active = stages[-1].all("HEALTHCHECK")
    if "status" in SUBCOMMANDS:
        assert active, "`fixrouter status` exists now: enable the HEALTHCHECK in the recipe"
    else:
        assert not active
        assert "HEALTHCHECK" in CONTAINERFILE.read_text()  # the commented-out line


def test_ignore_file_keeps_what_the_builder_copies() -> None:
    ignore = (CONTAINERFILE.parent / "Containerfile.dockerignore").read_text().split()
    _, stages = _stages()
    for arg in stages[0].all("COPY"):
        for source in arg.split()[:-1]:
            assert f"!{source.rstrip('/')}" in {i.rstrip("/") for i in ignore}, source


def test_the_engine_imports_without_quickfix() -> None:
    """The production image has no QuickFIX: `fixrouter run` must never import it."""
    code = (
        "import sys, fixrouter.cli, fixrouter.run, fixrouter.engine; "
        "sys.exit('quickfix' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
