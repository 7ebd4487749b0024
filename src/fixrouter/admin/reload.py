"""`fixrouter reload`: re-read the risk limits from the engine's config file.

The engine reads its whole config file again and checks all of it; if anything is
invalid, nothing changes and the error names the key. Otherwise the `[risk]` table
replaces the limits, throttles and kill-switch triggers at once (exposure, positions and
engaged switches are kept). Other tables need a restart; the answer lists any that
differ from the running ones. `systemctl reload fixrouter` (SIGHUP) does the same.
"""

from __future__ import annotations

import argparse
from typing import Any

from .cli import add_socket_arguments, run_command


def configure(parser: argparse.ArgumentParser) -> None:
    add_socket_arguments(parser)


def run(args: argparse.Namespace) -> int:
    return run_command(args, "reload", "reload", show)


def show(result: Any) -> None:
    print(f"risk limits reloaded from {result['config']}")
    for table in result["restart_needed"]:
        print(f"  [{table}] changed too: it takes effect only after a restart")
