"""`fixrouter sim`: run the QuickFIX acceptor that plays IB, in the foreground.

Start-up renders fix/sim.cfg into <data-dir>/sim.effective.cfg, opens the admin socket,
starts the acceptor and prints exactly one line, `listening on 127.0.0.1:PORT`, on stdout
once connections can be made; tests wait for that line. SIGTERM or SIGINT stops it: the
admin channel closes, the timer thread stops, QuickFIX logs the sessions out and the
process exits 0. Diagnostics go to stderr. Exit status 2 means a configuration error.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path

from fixrouter.errors import ConfigError

log = logging.getLogger("fixrouter.sim")

DEFAULT_PORT = 9878
DEFAULT_SENDER = "IB"
DEFAULT_TARGET = "FIXROUTER"


def configure(parser: argparse.ArgumentParser) -> None:
    from fixrouter.sim import settings

    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="TCP port (default %(default)s)"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path("var/sim"),
        help="QuickFIX store and logs, event log, admin socket (default %(default)s)",
    )
    parser.add_argument(
        "--scenario",
        type=Path,
        help="scenario TOML file (default: fill every order at once at 100; fix/README.md)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=settings.default_template(),
        help="QuickFIX settings template (default %(default)s)",
    )
    parser.add_argument(
        "--dictionary",
        type=Path,
        default=settings.default_dictionary(),
        help="QuickFIX data dictionary (default %(default)s)",
    )
    parser.add_argument(
        "--sender-comp-id",
        default=DEFAULT_SENDER,
        help="our SenderCompID, IB's side (default %(default)s)",
    )
    parser.add_argument(
        "--target-comp-id",
        action="append",
        help=f"a TargetCompID to accept; repeat for several sessions (default {DEFAULT_TARGET})",
    )
    parser.add_argument(
        "--admin-socket", type=Path, help="admin socket path (default <data-dir>/admin.sock)"
    )
    parser.add_argument(
        "--reset",
        action="store_true",
        help="forget sequence numbers and known ClOrdIDs in the data dir before starting",
    )


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s sim %(levelname)s %(message)s"
    )
    try:
        return _serve(args)
    except ConfigError as e:
        print(f"fixrouter sim: {e}", file=sys.stderr)
        return 2


def _serve(args: argparse.Namespace) -> int:
    # Imported here so that `fixrouter sim --help` works without QuickFIX installed.
    try:
        import quickfix as fix
    except ImportError as e:
        raise ConfigError("the simulator needs QuickFIX: pip install 'fixrouter[sim]'") from e

    from fixrouter.sim import settings
    from fixrouter.sim.admin import AdminServer
    from fixrouter.sim.app import SimApplication
    from fixrouter.sim.datadir import DataDir
    from fixrouter.sim.scenario import Scenario, load_scenario

    if not 0 < args.port < 65536:
        raise ConfigError(f"--port must be 1..65535, not {args.port}")
    scenario = load_scenario(args.scenario) if args.scenario else Scenario()
    dictionary: Path = args.dictionary.resolve()
    if not dictionary.is_file():
        raise ConfigError(f"data dictionary not found: {dictionary} (pass --dictionary)")
    try:
        template = args.config.read_text()
    except OSError as e:
        raise ConfigError(f"cannot read settings template {args.config}: {e.strerror}") from e

    data_dir = DataDir(args.data_dir)
    if args.reset:
        data_dir.reset()
    targets = args.target_comp_id or [DEFAULT_TARGET]
    data_dir.settings.write_text(
        settings.render(
            template,
            {
                "port": str(args.port),
                "data_dir": str(data_dir.root),
                "dictionary": str(dictionary),
                "sender_comp_id": args.sender_comp_id,
            },
            targets,
        )
    )

    # Block the stop signals before any thread exists, so every thread (QuickFIX's too)
    # inherits the mask and the kernel leaves them pending for sigwait() below. Left to
    # default delivery, they could land on a QuickFIX thread and wait for the main thread.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)

    application = SimApplication(scenario, data_dir, boot=data_dir.next_boot())
    # Bound before QuickFIX starts any thread: AdminServer briefly changes the umask.
    admin = AdminServer(args.admin_socket or data_dir.admin_socket, application.handle_admin)
    try:
        session_settings = fix.SessionSettings(str(data_dir.settings))
        acceptor = fix.ThreadedSocketAcceptor(
            application,
            fix.FileStoreFactory(session_settings),
            session_settings,
            fix.FileLogFactory(session_settings),
        )
        application.start()
        acceptor.start()
    except fix.ConfigError as e:
        admin.close()
        application.stop()
        raise ConfigError(f"QuickFIX rejected {data_dir.settings}: {e}") from e
    except fix.RuntimeError as e:
        admin.close()
        application.stop()
        raise ConfigError(f"QuickFIX could not start (port {args.port} in use?): {e}") from e
    admin.start()
    print(f"listening on 127.0.0.1:{args.port}", flush=True)

    signum = signal.sigwait(stop_signals)
    log.info("stopping on %s", signal.Signals(signum).name)
    admin.close()
    application.stop()
    acceptor.stop()
    application.close()
    return 0
