from .stack import ops_stack  # noqa: F401  (the fixture)
