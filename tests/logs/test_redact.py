"""logs/redact: decode's credential fields and the configured secrets, masked."""

from __future__ import annotations

from fixrouter.codec import decode_frame, encode_fields
from fixrouter.dictionary import load_dictionary
from fixrouter.logs import Redactor, secret_tags
from fixrouter.logs.redact import SECRET_TAGS


def logon(*extra: tuple[int, str]) -> bytes:
    return encode_fields([(35, "A"), (49, "FIXROUTER"), (56, "IB"), (34, 1),
                          (52, "20240101-00:00:00"), (98, 0), (108, 30), *extra])


def test_uses_decodes_list_and_the_dictionary() -> None:
    tags = secret_tags(load_dictionary())
    assert tags >= SECRET_TAGS
    assert {91, 96, 554, 925} <= tags


def test_masks_credential_fields_and_keeps_the_frame_valid() -> None:
    r = Redactor(dictionary=load_dictionary())
    frame = logon((554, "hunter2"), (925, "hunter3"), (96, "raw-secret"), (95, 10))
    masked = r.mask_fix(frame)
    assert b"hunter" not in masked and b"raw-secret" not in masked
    message = decode_frame(masked)  # BodyLength and CheckSum recomputed: verifies
    assert message.get(554) == b"****" and message.get(925) == b"****"
    assert message.get(96) == b"****" and message.get(108) == b"30"


def test_masks_configured_secrets_anywhere() -> None:
    r = Redactor(["tok-123", "tok-123-long"])
    frame = encode_fields([(35, "D"), (49, "A"), (56, "B"), (34, 2), (52, "20240101-00:00:00"),
                           (58, "my token is tok-123-long, ok"), (11, "tok-123")])
    masked = r.mask_fix(frame)
    assert b"tok-123" not in masked
    assert decode_frame(masked).get(58) == b"my token is ****, ok"
    assert r.mask_text("hello tok-123-long and tok-123") == "hello **** and ****"


def test_nothing_to_mask_returns_the_same_object() -> None:
    r = Redactor(["tok-123"], load_dictionary())
    frame = logon()
    assert r.mask_fix(frame) is frame
    text = "nothing here"
    assert r.mask_text(text) is text
