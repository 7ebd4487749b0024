"""The FIX data dictionary: what each message may and must carry, and what values mean.

`load_dictionary()` reads the project's QuickFIX-format `spec/fix42-ib.xml` once and returns
a `Dictionary`; `CompiledValidator` compiles it into the few set look-ups that guard every
message before it is sent, and classifies received ones for a session-level Reject.
"""

from .loader import DICTIONARY_FILE, default_dictionary_path, load_dictionary
from .model import Dictionary, FieldDef, FieldSet, GroupSpec, MessageSpec, MsgCategory
from .validator import CompiledValidator, InboundProblem, SessionRejectReason

__all__ = [
    "DICTIONARY_FILE",
    "CompiledValidator",
    "Dictionary",
    "FieldDef",
    "FieldSet",
    "GroupSpec",
    "InboundProblem",
    "MessageSpec",
    "MsgCategory",
    "SessionRejectReason",
    "default_dictionary_path",
    "load_dictionary",
]
