"""The QuickFIX acceptor simulator that plays Interactive Brokers in tests and the demo.

`scenario` loads what the fake IB should do (TOML), `book` is the pure order-handling
logic, `app` is the QuickFIX Application that connects the two, `admin` is the local
command channel, `datadir` and `settings` manage the files of a run, and `cli` and
`admin_cli` are `fixrouter sim` and `fixrouter sim-admin`. fix/README.md documents the
scenario format, the event log and the admin commands.
"""
