"""The router's TOML configuration: QuickFIX-named session settings, validated and frozen.

`load_config(path)` returns a `RouterConfig` holding one `SessionSettings` per FIX session
(`[session]` for one, `[[sessions]]` for several). Every setting, its default and why it is
there is documented in `fix/router-reference.md`; `loader.SETTINGS` is the table of keys.
"""

from .loader import KNOWN_KEYS, SETTINGS, SectionParser, Setting, load_config, parse_config
from .model import RouterConfig, SessionSettings, StoreSettings

__all__ = [
    "KNOWN_KEYS",
    "SETTINGS",
    "RouterConfig",
    "SectionParser",
    "SessionSettings",
    "Setting",
    "StoreSettings",
    "load_config",
    "parse_config",
]
