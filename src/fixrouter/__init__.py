"""fixrouter: a FIX 4.2 CTCI order-routing engine for Interactive Brokers."""

__version__ = "0.1.0"
