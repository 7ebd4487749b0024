"""`fixrouter bench`: how fast the whole order path is, measured end to end on loopback.

Theory of operation
-------------------
Three processes, so that the engine's figures are the engine's alone:

    load generator ──JSON lines──▶ engine (this process) ──FIX──▶ benchmark acceptor
    (loadgen)      ◀──events───── gateway, risk, book,  ◀──ER New── (acceptor: acked
                                  dialect, journal, wire             or sink mode)

* `runner` assembles the engine exactly as `fixrouter run` does (`RouterService`) on
  uvloop, pins it to one CPU, starts the helpers on the other, runs the benchmark runs
  one after another and collects the figures; `cli` is the `fixrouter bench` command.
* `probe` measures tick-to-wire inside the engine, from the gateway's read of a line to
  the write of its NewOrderSingle to the socket, into preallocated arrays.
* `acceptor` is a minimal FIX acceptor built on `fixrouter.codec`: it answers Logon,
  heartbeats and TestRequests, and either acknowledges every NewOrderSingle with an
  ExecutionReport New or only counts them (sink); it reports its own CPU time and unread
  backlog so the bench can show it was not the bottleneck.
* `loadgen` is the strategy: paced (open loop) or saturated (closed loop with a window)
  streams of `new` lines, and the round trip to the `exec new` event.
* `quickfix_peer` sends the same workload through QuickFIX's C++ initiator from Python,
  against the same acceptor, for the side-by-side row.
* `control` is how the controller talks to its helpers; `report` renders the table.
"""
