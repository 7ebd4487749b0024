"""Helpers shared by the metrics tests: scraping, parsing, and the deploy kit's contract."""

from __future__ import annotations

import importlib.util
import sys
import time
import urllib.request
from pathlib import Path
from types import ModuleType

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from fixrouter.client import Accepted, BlockingClient

REPO = Path(__file__).resolve().parents[2]


def deploy_kit() -> ModuleType:
    """tests/deploy/kit.py, which lists the metric contract exactly as deploy/ uses it."""
    spec = importlib.util.spec_from_file_location("deploy_kit", REPO / "tests/deploy/kit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


Series = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> tuple[dict[str, str], Series]:
    """(family name -> type, (sample name, sorted labels) -> value) from exposition text."""
    types: dict[str, str] = {}
    series: Series = {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for s in family.samples:
            series[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return types, series


def scrape_registry(registry: CollectorRegistry) -> tuple[dict[str, str], Series]:
    return parse(generate_latest(registry).decode())


def scrape_url(url: str, timeout: float = 5.0) -> tuple[dict[str, str], Series]:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return parse(response.read().decode())


def value(series: Series, name: str, **labels: str) -> float:
    return series[(name, tuple(sorted(labels.items())))]


def wait_accepted(client: BlockingClient, ids: set[str], timeout: float = 10.0) -> None:
    """Read the client's events until every id in `ids` was accepted (the end-to-end
    tests scrape only once their orders are in)."""
    accepted: set[str] = set()
    deadline = time.monotonic() + timeout
    while accepted != ids and time.monotonic() < deadline:
        event = client.next_event(0.5)
        if isinstance(event, Accepted):
            accepted.add(event.id)
    assert accepted == ids
