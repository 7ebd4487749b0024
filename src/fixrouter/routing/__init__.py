"""The pieces the router (`fixrouter.router`) is wired from, one job per module.

* `gate`: the `OrderGate` interface the router asks before the order book, and
  `PassThroughGate`;
* `config`: the `[routing]` table: which FIX session each strategy's orders go out on, and
  each session's ClOrdID prefix;
* `rejects`: session-level refusals of our order messages turned into the reports the
  order book understands;
* `service`: `RouterService`, one process's engine, order book, gate, router and gateway,
  assembled from the config (used by `fixrouter run` and `fixrouter demo`).
"""
