"""The admin socket and the operator's commands.

* `protocol`: JSON-line requests and answers, and `AdminTarget`, what the server needs
  from the engine;
* `server`: `AdminServer`, the Unix socket (mode 0600) that serves a target;
* `target`: `ServiceTarget`, the target of a running engine;
* `client`: one blocking request/answer for the CLI;
* `settings`: the `[admin]` table (where the socket goes);
* `cli` and one module per subcommand: `status`, `killswitch` (`kill-switch`),
  `reload`, `seq`, `refprice` (`ref-price`), and `checkconfig` (`check-config`, offline).

Importing this package imports nothing from the engine; each subcommand imports what it
uses when it runs.
"""
