"""FIX 4.2 tag=value codec: framing, verification, encoding, repeating groups.

No I/O happens here; bytes in, messages out, and the reverse.
"""

from .checksum import byte_sum, checksum
from .decoder import FrameDecoder, Garbled, GarbledReason, decode_frame, split_fields
from .encoder import (
    BodyTemplate,
    Encoder,
    Field,
    FieldValue,
    encode_fields,
    render_fields,
    render_value,
)
from .message import FieldList, FixMessage, GroupDef, parse_group
from .tags import SOH
from .timestamps import format_utc_ms, format_utc_us, parse_utc_timestamp

__all__ = [
    "SOH",
    "BodyTemplate",
    "Encoder",
    "Field",
    "FieldList",
    "FieldValue",
    "FixMessage",
    "FrameDecoder",
    "Garbled",
    "GarbledReason",
    "GroupDef",
    "byte_sum",
    "checksum",
    "decode_frame",
    "encode_fields",
    "format_utc_ms",
    "format_utc_us",
    "parse_group",
    "parse_utc_timestamp",
    "render_fields",
    "render_value",
    "split_fields",
]
