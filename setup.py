"""Build hook: compiles the order path's modules to C with mypyc.

Everything else about the package is in pyproject.toml. The modules below are the ones
every order and every ExecutionReport runs through; compiled, the router's handle ->
socket write costs about half what it costs interpreted (tests/bench/README.md, "Compiled
hot path"). That includes the asyncio glue the event loop enters the order path through
(the FIX transport, the gateway's connections, the busy poller, the collector policy), so
that a socket read or a loop callback runs compiled code from its first frame. Start-up,
configuration, the simulator, the CLI and the benchmark harness stay interpreted: they gain
nothing and keep Python's full dynamism.

`FIXROUTER_PURE=1 pip install -e .` skips compilation (no C compiler needed; the same code
runs interpreted, just slower). A compiled build records a hash of every compiled source in
`src/fixrouter/_compiled.json`; `fixrouter/__init__.py` refuses to import when a source has
changed since, because Python would otherwise go on running the stale extension.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
MANIFEST = SRC / "fixrouter" / "_compiled.json"

COMPILED = [
    "fixrouter/busypoll.py",
    "fixrouter/codec/checksum.py",
    "fixrouter/codec/decoder.py",
    "fixrouter/codec/encoder.py",
    "fixrouter/codec/message.py",
    "fixrouter/codec/tags.py",
    "fixrouter/codec/timestamps.py",
    "fixrouter/dialect/builder.py",
    "fixrouter/dialect/inbound.py",
    "fixrouter/dialect/settings.py",
    "fixrouter/dialect/tables.py",
    "fixrouter/dialect/terms.py",
    "fixrouter/dialect/values.py",
    "fixrouter/dictionary/formats.py",
    "fixrouter/dictionary/validator.py",
    "fixrouter/events.py",
    "fixrouter/gc_policy.py",
    "fixrouter/requests.py",
    "fixrouter/gateway/encode.py",
    "fixrouter/gateway/parse.py",
    "fixrouter/gateway/server.py",
    "fixrouter/metrics/flow.py",
    "fixrouter/metrics/histogram.py",
    "fixrouter/metrics/journal.py",
    "fixrouter/metrics/sessions.py",
    "fixrouter/oms/book.py",
    "fixrouter/oms/clordid.py",
    "fixrouter/oms/counters.py",
    "fixrouter/oms/intents.py",
    "fixrouter/oms/order.py",
    "fixrouter/oms/positions.py",
    "fixrouter/oms/retired.py",
    "fixrouter/oms/states.py",
    "fixrouter/oms/wire.py",
    "fixrouter/risk/checks.py",
    "fixrouter/risk/denial.py",
    "fixrouter/risk/exposure.py",
    "fixrouter/risk/gate.py",
    "fixrouter/risk/limits.py",
    "fixrouter/risk/reference.py",
    "fixrouter/risk/throttle.py",
    "fixrouter/router.py",
    "fixrouter/routing/gate.py",
    "fixrouter/routing/risk.py",
    "fixrouter/routing/table.py",
    "fixrouter/session/actions.py",
    "fixrouter/session/core.py",
    "fixrouter/session/messages.py",
    "fixrouter/session/resend.py",
    "fixrouter/session/states.py",
    "fixrouter/store/index.py",
    "fixrouter/store/journal.py",
    "fixrouter/store/records.py",
    "fixrouter/store/window.py",
    "fixrouter/transport/commits.py",
    "fixrouter/transport/connection.py",
    # The bench's in-engine probe subclasses the router's OrderFlow, so it compiles with it.
    "fixrouter/bench/probe.py",
]


def _source_hashes() -> dict[str, str]:
    return {
        path: hashlib.sha256((SRC / path).read_bytes()).hexdigest() for path in COMPILED
    }


def _remove_old_builds() -> None:
    """Extensions of an earlier build: they would shadow the sources they came from."""
    MANIFEST.unlink(missing_ok=True)
    for stale in [*SRC.glob("*__mypyc.cpython-*.so"), *SRC.glob("fixrouter/**/*.cpython-*.so")]:
        stale.unlink()


def _extensions() -> list[object]:
    _remove_old_builds()
    if os.environ.get("FIXROUTER_PURE"):
        return []
    from mypyc.build import mypycify

    extensions = mypycify([f"src/{path}" for path in COMPILED], opt_level="3", debug_level="0")
    MANIFEST.write_text(json.dumps(_source_hashes(), indent=1, sort_keys=True) + "\n")
    return list(extensions)


setup(ext_modules=_extensions())
