from admin.stack import ops_stack  # type: ignore[import-not-found]  # noqa: F401  (the fixture)
