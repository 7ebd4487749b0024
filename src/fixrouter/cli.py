"""The `fixrouter` command line.

Each subcommand lives in the module that owns its job and exposes two functions:
`configure(parser)` adds its arguments and `run(args) -> int` does the work. Modules are
imported only when their subcommand runs, so `fixrouter decode` never imports QuickFIX.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Protocol

from fixrouter import __version__


class _Subcommand(Protocol):
    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


# name -> (module implementing it, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "sim": ("fixrouter.sim.cli", "run the QuickFIX acceptor simulator that plays IB"),
    "sim-admin": ("fixrouter.sim.admin_cli", "send an admin command to a running simulator"),
    "decode": ("fixrouter.decode", "pretty-print FIX messages from a log file or stdin"),
    "demo": ("fixrouter.demo", "a sample strategy trading through the engine and simulator"),
    "run": ("fixrouter.run", "run the engine: every configured FIX session, until SIGTERM"),
    "bench": ("fixrouter.bench.cli", "measure tick-to-wire, round trip and throughput"),
    "status": ("fixrouter.admin.status", "a running engine's sessions, orders, kill switches"),
    "kill-switch": ("fixrouter.admin.killswitch", "engage or release a kill switch"),
    "reload": ("fixrouter.admin.reload", "re-read the risk limits from the config file"),
    "seq": ("fixrouter.admin.seq", "show or set a session's sequence numbers"),
    "ref-price": ("fixrouter.admin.refprice", "set a symbol's reference price for risk"),
    "check-config": ("fixrouter.admin.checkconfig", "validate a router config file offline"),
}


def _load(name: str) -> _Subcommand:
    module_name, _ = SUBCOMMANDS[name]
    module: _Subcommand = importlib.import_module(module_name)
    return module


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fixrouter", description=__doc__)
    parser.add_argument("--version", action="version", version=f"fixrouter {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (_, help_text) in SUBCOMMANDS.items():
        # add_help=False: "fixrouter sim --help" must reach the subcommand's own parser.
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # Parse the command name first, then let the owning module add its own arguments.
    known, _ = parser.parse_known_args(argv)
    command = _load(known.command)
    sub_parser = argparse.ArgumentParser(
        prog=f"fixrouter {known.command}", description=SUBCOMMANDS[known.command][1]
    )
    command.configure(sub_parser)
    args = sub_parser.parse_args(argv[argv.index(known.command) + 1 :])
    return command.run(args)


if __name__ == "__main__":
    sys.exit(main())
