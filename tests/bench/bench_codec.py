"""Codec benchmark: fixrouter's encoder and decoder beside simplefix, in one run.

Run: `python tests/bench/bench_codec.py [--rounds N] [--json]`

Each figure is the per-message time of a batch of `--batch` operations; the median and p99
are over `--rounds` batches. Batching keeps the timer's own cost (~50 ns) out of figures of
about a microsecond. A hand-built `%`-format of the same NewOrderSingle is the floor.
"""

from __future__ import annotations

import gc
import sys

import simplefix
from batched import arguments, measure, report

from fixrouter.codec import BodyTemplate, Encoder, FrameDecoder, encode_fields

NOS_TAGS = (11, 1, 21, 55, 54, 38, 40, 44, 59, 60, 100, 15, 167)
NOS_VALUES = (
    b"FR1124A000001", b"U1234567", b"2", b"AAPL", b"1", b"100", b"2", b"190.25", b"0",
    b"20261124-10:22:16.120", b"SMART", b"USD", b"STK",
)
EXEC_REPORT = encode_fields([
    (35, "8"), (34, 1234), (49, "IB"), (52, "20261124-10:22:16.123"), (56, "FIXROUTER"),
    (6, "0"), (11, "FR1124A000001"), (14, "0"), (17, "0000a1b2.00000001.6754e1c0.0001"),
    (20, "0"), (31, "0.00"), (32, "0"), (37, "000009a5.00004691.603c7978.0001"), (38, 100),
    (39, "0"), (40, "2"), (44, "190.25"), (54, "1"), (55, "AAPL"), (59, "0"),
    (60, "20261124-10:22:16.120"), (150, "0"), (151, 100), (1, "U901192"), (167, "CS"),
])
NOW = 1795000000.123


def main() -> int:
    args = arguments(__doc__.splitlines()[0]).parse_args()

    encoder = Encoder("FIXROUTER", "IB")
    template = BodyTemplate(NOS_TAGS)
    seq = iter(range(1, 1 << 62))

    def ours_encode() -> bytes:
        body = template.render(NOS_VALUES)
        return encoder.encode(b"D", next(seq), encoder.timestamp(NOW), body)

    hand_format = (
        b"35=D\x0134=%d\x0149=FIXROUTER\x0152=%b\x0156=IB\x01"
        + b"".join(b"%d=%%b\x01" % tag for tag in NOS_TAGS)
    )

    def hand_built() -> bytes:
        rest = hand_format % (next(seq), b"20261124-10:22:16.123", *NOS_VALUES)
        head = b"8=FIX.4.2\x019=%d\x01%b" % (len(rest), rest)
        return b"%b10=%03d\x01" % (head, sum(head) & 0xFF)

    def simplefix_encode() -> bytes:
        msg = simplefix.FixMessage()
        msg.append_pair(8, "FIX.4.2", header=True)
        msg.append_pair(35, "D", header=True)
        msg.append_pair(34, next(seq), header=True)
        msg.append_pair(49, "FIXROUTER", header=True)
        msg.append_utc_timestamp(52, NOW, precision=3, header=True)
        msg.append_pair(56, "IB", header=True)
        for tag, value in zip(NOS_TAGS, NOS_VALUES, strict=True):
            msg.append_pair(tag, value)
        encoded: bytes = msg.encode()
        return encoded

    decoder = FrameDecoder()

    def ours_decode() -> object:
        return decoder.feed(EXEC_REPORT)[0]

    sf_parser = simplefix.FixParser()

    def simplefix_decode() -> object:
        sf_parser.append_buffer(EXEC_REPORT)
        return sf_parser.get_message()

    # Sanity: both sides produce what the other expects, before timing anything.
    sf_parser.append_buffer(ours_encode())
    assert sf_parser.get_message().get(55) == b"AAPL"
    assert decoder.feed(EXEC_REPORT)[0].get(37) == b"000009a5.00004691.603c7978.0001"

    gc.collect()
    gc.freeze()
    results = {
        "encode NewOrderSingle (fixrouter)": measure(ours_encode, args.rounds, args.batch),
        "encode NewOrderSingle (hand-built bytes)": measure(hand_built, args.rounds, args.batch),
        "encode NewOrderSingle (simplefix)": measure(simplefix_encode, args.rounds // 4,
                                                     args.batch),
        "decode ExecutionReport (fixrouter)": measure(ours_decode, args.rounds, args.batch),
        "decode ExecutionReport (simplefix)": measure(simplefix_decode, args.rounds // 4,
                                                      args.batch),
    }
    report(results, args.json, "operation")
    if args.json:
        return 0
    enc = results["encode NewOrderSingle (fixrouter)"]["median_us"]
    dec = results["decode ExecutionReport (fixrouter)"]["median_us"]
    sf_enc = results["encode NewOrderSingle (simplefix)"]["median_us"]
    sf_dec = results["decode ExecutionReport (simplefix)"]["median_us"]
    print(f"\nsimplefix / fixrouter: encode {sf_enc / enc:.1f}x, decode {sf_dec / dec:.1f}x")
    print(f"targets: encode <= 2 µs ({'met' if enc <= 2 else 'MISSED'}), "
          f"decode <= 4 µs ({'met' if dec <= 4 else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
