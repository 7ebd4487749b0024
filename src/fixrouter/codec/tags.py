"""Tag numbers and constant values that the codec and session layer refer to by name.

Plain integers, not an IntEnum: they are used on the hot path where enum attribute
access costs more than the work it labels.
"""

from __future__ import annotations

from typing import Final

SOH: Final = b"\x01"

BEGIN_STRING: Final = 8
BODY_LENGTH: Final = 9
CHECKSUM: Final = 10
MSG_TYPE: Final = 35
MSG_SEQ_NUM: Final = 34
POSS_DUP_FLAG: Final = 43
SENDER_COMP_ID: Final = 49
SENDER_SUB_ID: Final = 50
SENDING_TIME: Final = 52
TARGET_COMP_ID: Final = 56
TARGET_SUB_ID: Final = 57
POSS_RESEND: Final = 97
ORIG_SENDING_TIME: Final = 122

# FIX 4.2's standard header (FIX 4.2 spec, "Standard Message Header"). The encoder puts
# these before any body field, because IB rejects a header field found in the body.
HEADER_TAGS: frozenset[int] = frozenset(
    {
        8, 9, 35, 34, 43, 49, 50, 52, 56, 57, 90, 91, 97, 115, 116, 122, 128, 129,
        142, 143, 144, 145, 212, 213, 347, 369, 370,
    }
)  # fmt: skip

# Length-prefixed data fields: their value may contain SOH, so the fast field splitter
# cannot be used on a message that carries one. Maps the data tag to its length tag.
DATA_FIELD_LENGTH: dict[int, int] = {
    89: 93,  # Signature / SignatureLength (trailer)
    91: 90,  # SecureData / SecureDataLen
    96: 95,  # RawData / RawDataLength
    213: 212,  # XmlData / XmlDataLen
    349: 348,  # EncodedIssuer
    351: 350,  # EncodedSecurityDesc
    353: 352,  # EncodedListExecInst
    355: 354,  # EncodedText
    357: 356,  # EncodedSubject
    359: 358,  # EncodedHeadline
    361: 360,  # EncodedAllocText
    363: 362,  # EncodedUnderlyingIssuer
    365: 364,  # EncodedUnderlyingSecurityDesc
    446: 445,  # EncodedListStatusText
}
DATA_LENGTH_TAGS: frozenset[int] = frozenset(DATA_FIELD_LENGTH.values())

# Precomputed tag keys: the decoder indexes fields by their tag's ASCII bytes (cheaper
# than int() per field), and these let callers look a tag up by number without
# formatting it each time.
_KEY_CACHE_SIZE: Final = 10_000
TAG_KEYS: list[bytes] = [b"%d" % tag for tag in range(_KEY_CACHE_SIZE)]


def tag_key(tag: int) -> bytes:
    """The ASCII bytes of a tag number, as used in the decoder's index."""
    if 0 <= tag < _KEY_CACHE_SIZE:
        return TAG_KEYS[tag]
    return b"%d" % tag
