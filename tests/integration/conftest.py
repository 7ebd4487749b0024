"""Fixtures for the integration tests: a short working directory, the simulator, routers.

Everything runs on free loopback ports. Every process started here is killed in a
finalizer, whatever the test did; a failing test keeps its working directory and prints
its path, so the router's log and QuickFIX's logs can be read (set FIXROUTER_KEEP_WORKDIR=1
to keep every one).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest

from fixrouter.sim.process import free_port

from .harness import RouterProcess, SimHandle


@pytest.fixture
def workdir(request: pytest.FixtureRequest) -> Iterator[Path]:
    # Short and outside pytest's deep tmp tree: the simulator's admin socket path must fit
    # in sun_path (108 bytes).
    path = Path(tempfile.mkdtemp(prefix="frit-", dir="/tmp"))
    yield path
    report = getattr(request.node, "rep_call", None)
    if (report is not None and report.failed) or os.environ.get("FIXROUTER_KEEP_WORKDIR"):
        print(f"\nkept working directory {path}")
    else:
        shutil.rmtree(path, ignore_errors=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report


@pytest.fixture
def sim(workdir: Path) -> Iterator[SimHandle]:
    handle = SimHandle(workdir / "sim", free_port())
    handle.start()
    try:
        yield handle
    finally:
        handle.kill()


@pytest.fixture
def routers(workdir: Path) -> Iterator[Callable[..., RouterProcess]]:
    """Start routers with `routers(config, feed=..., feed_rate=...)`; all are killed after."""
    started: list[RouterProcess] = []

    def start(config: Path, **kwargs: object) -> RouterProcess:
        tag = f"router-{len(started) + 1}"
        router = RouterProcess(workdir, config, tag=tag, **kwargs)  # type: ignore[arg-type]
        started.append(router)
        return router

    try:
        yield start
    finally:
        for router in started:
            router.kill9()
