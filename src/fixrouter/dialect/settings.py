"""Settings of the IB CTCI dialect: the `[dialect]` table of the router config.

Every setting has a default. Where `ctci.md` marks a CTCI fact as uncertain (IB's manual
is given to clients only at onboarding), the fact is a setting and its default is what
`ctci.md` says, so a client can follow its own copy of the manual without a code change.

Settings, with their defaults:

- `handl_inst = "2"`: HandlInst(21). IB's dictionary lists only 2 (automated execution,
  intervention OK).
- `default_exchange = "SMART"`: ExDestination(100) for an order whose `exchange` is empty;
  SMART is IB's smart router.
- `default_currency = "USD"`: Currency(15) for an order whose `currency` is empty. IB
  wants 15 with 100=SMART.
- `default_account` (unset): Account(1) for an order that names none; with neither, 1 is
  left out and IB uses the session's default account.
- `default_capacity` (unset): CustomerOrFirm(204), `"customer"` or `"firm"`, for an order
  that names none; with neither, 204 is left out.
- `send_transact_time = true`: send TransactTime(60) on D, F and G. IB's dictionary omits
  60 (uncertain whether IB wants it), standard FIX 4.2 requires it.
- `max_cl_ord_id_length = 64`: the longest ClOrdID(11), OrigClOrdID(41) or OrderID(37)
  sent. IB publishes no limit.
- `max_account_length = 32`: the longest Account(1) sent. IB accounts look like `U1234567`.
- `max_text_length = 64`: the longest other free-text value (Symbol, ExDestination,
  LocalSymbol, ...).
- `validate_every_message = false`: also run the dictionary's full check on every message,
  not only on the first of each shape (see `builder`); for certification runs. Costs
  about 2.5 us more per order (`tests/bench/bench_dialect.py`).

Unknown keys are a `ConfigError` naming them; so is a value of the wrong type.
Dictionary-dependent checks (is `handl_inst` an allowed value?) happen when the `Dialect`
is built, since only then is the dictionary known.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Final

from fixrouter.errors import ConfigError
from fixrouter.requests import Capacity


@dataclass(frozen=True, slots=True)
class DialectSettings:
    """How fixrouter speaks IB's CTCI dialect of FIX 4.2. See the module docstring."""

    handl_inst: str = "2"
    default_exchange: str = "SMART"
    default_currency: str = "USD"
    default_account: str | None = None
    default_capacity: Capacity | None = None
    send_transact_time: bool = True
    max_cl_ord_id_length: int = 64
    max_account_length: int = 32
    max_text_length: int = 64
    validate_every_message: bool = False

    def __post_init__(self) -> None:
        for name in ("max_cl_ord_id_length", "max_account_length", "max_text_length"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"dialect.{name} must be a positive integer, got {value!r}")
        for name in ("handl_inst", "default_exchange", "default_currency"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ConfigError(f"dialect.{name} must be a non-empty string")
        if self.default_account is not None and (
            not isinstance(self.default_account, str) or not self.default_account
        ):
            raise ConfigError("dialect.default_account must be a non-empty string when set")

    @classmethod
    def from_toml_table(cls, table: Mapping[str, Any], where: str = "dialect") -> DialectSettings:
        """Build from the parsed `[dialect]` table; absent keys keep their defaults.

        Raises:
            ConfigError: an unknown key, or a value of the wrong type or out of range;
                the message names `where.key`.
        """
        unknown = sorted(set(table) - _KEYS)
        if unknown:
            raise ConfigError(
                f"{where}: unknown key{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(repr(k) for k in unknown)} (allowed: {', '.join(sorted(_KEYS))})"
            )
        values: dict[str, Any] = {}
        for key, value in table.items():
            expected = _TYPES[key]
            if key == "default_capacity":
                try:
                    values[key] = Capacity(value)
                except ValueError:
                    allowed = ", ".join(repr(c.value) for c in Capacity)
                    raise ConfigError(
                        f"{where}.{key} must be one of {allowed}, got {value!r}"
                    ) from None
                continue
            # bool is an int subclass: `true` must not pass for a length, nor 1 for a flag.
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                raise ConfigError(
                    f"{where}.{key} must be {_TYPE_WORDS[expected]}, got {value!r}"
                )
            values[key] = value
        try:
            return cls(**values)
        except ConfigError as exc:
            raise ConfigError(str(exc).replace("dialect.", f"{where}.", 1)) from None


_KEYS: Final = frozenset(f.name for f in fields(DialectSettings))
_TYPES: dict[str, type] = {
    "handl_inst": str,
    "default_exchange": str,
    "default_currency": str,
    "default_account": str,
    "default_capacity": str,
    "send_transact_time": bool,
    "max_cl_ord_id_length": int,
    "max_account_length": int,
    "max_text_length": int,
    "validate_every_message": bool,
}
_TYPE_WORDS: Final = {str: "a string", bool: "true or false", int: "an integer"}
assert set(_TYPES) == _KEYS, "every setting needs a TOML type"
