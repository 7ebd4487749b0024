"""`fixrouter decode`: logs in, readable text out, secrets masked, damage flagged."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from fixrouter.cli import main
from fixrouter.codec import encode_fields
from fixrouter.decode import Formatter, read_messages
from fixrouter.dictionary import load_dictionary


def frame(body: str) -> bytes:
    """A verified FIX 4.2 frame around `body`, whose fields are separated by `|`."""
    payload = body.replace("|", "\x01").encode()
    head = b"8=FIX.4.2\x019=%d\x01" % len(payload)
    return head + payload + b"10=%03d\x01" % (sum(head + payload) % 256)


LOGON = frame("35=A|34=1|49=CLIENT|52=20240105-14:30:00.123|56=IB|98=0|108=30|95=6|96=s3cr3t|"
              "554=hunter2|925=hunter3|141=Y|")  # fmt: skip
ORDER = frame(
    "35=D|34=2|49=CLIENT|52=20240105-14:30:00.200|56=IB|11=C1|21=2|100=SMART|55=AAPL|54=1|"
    "38=100|40=2|44=187.25|59=0|18=M a|5957=2|5958=riskAversion|5960=Passive|"
    "5958=forceCompletion|5960=1|6035=AAPL|"
)
NEWS = frame(
    "35=B|34=3|49=IB|52=20240105-14:30:01.000|56=CLIENT|148=Bulletin|146=1|46=AAPL|"
    "33=2|58=first line|58=second line|"
)


def run_decode(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["decode", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_quickfix_file_log_with_masked_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "FIX.4.2-CLIENT-IB.messages.current.log"
    log.write_bytes(b"20240105-14:30:00.123 : " + LOGON + b"\n")
    code, out, _ = run_decode(capsys, str(log))
    body_length = LOGON.split(b"\x01")[1][2:].decode()
    assert code == 0
    assert out == (
        "20240105-14:30:00.123  Logon (35=A)\n"
        "  BeginString(8)=FIX.4.2\n"
        f"  BodyLength(9)={body_length}\n"
        "  MsgType(35)=A (LOGON)\n"
        "  MsgSeqNum(34)=1\n"
        "  SenderCompID(49)=CLIENT\n"
        "  SendingTime(52)=20240105-14:30:00.123\n"
        "  TargetCompID(56)=IB\n"
        "  EncryptMethod(98)=0 (NONE)\n"
        "  HeartBtInt(108)=30\n"
        "  RawDataLength(95)=6\n"
        "  RawData(96)=****\n"
        "  Password(554)=****\n"
        "  NewPassword(925)=****\n"
        "  ResetSeqNumFlag(141)=Y (YES)\n"
        f"  CheckSum(10)={LOGON[-4:-1].decode()}\n"
        "\n"
    )
    assert "s3cr3t" not in out and "hunter" not in out


def test_groups_are_indented_and_enums_described(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "fix.log"
    log.write_bytes(ORDER + b"\n" + NEWS + b"\n")
    _, out, _ = run_decode(capsys, str(log))
    assert (
        "  Side(54)=1 (BUY)\n"
        "  OrderQty(38)=100\n"
        "  OrdType(40)=2 (LIMIT)\n"
        "  Price(44)=187.25\n"
        "  TimeInForce(59)=0 (DAY)\n"
        "  ExecInst(18)=M a (MID_PRICE_PEG TRAILING_STOP_PEG)\n"
        "  NoStrategyParameters(5957)=2\n"
        "    - StrategyParameterName(5958)=riskAversion\n"
        "      StrategyParameterValue(5960)=Passive\n"
        "    - StrategyParameterName(5958)=forceCompletion\n"
        "      StrategyParameterValue(5960)=1\n"
        "  IBLocalSymbol(6035)=AAPL\n"
    ) in out
    assert (
        "  NoRelatedSym(146)=1\n"
        "    - RelatdSym(46)=AAPL\n"
        "  LinesOfText(33)=2\n"
        "    - Text(58)=first line\n"
        "    - Text(58)=second line\n"
    ) in out


def test_nested_groups(tmp_path: Path) -> None:
    xml = tmp_path / "nested.xml"
    xml.write_text(
        """<fix major="4" minor="4"><header><field name="BeginString" required="Y"/></header>
        <trailer/><messages><message name="Thing" msgtype="X" msgcat="app">
        <group name="NoPartyIDs" required="N"><field name="PartyID" required="Y"/>
          <group name="NoPartySubIDs" required="N"><field name="PartySubID" required="Y"/>
          </group><field name="PartyRole" required="N"/></group>
        <field name="Text" required="N"/></message></messages><fields>
        <field number="8" name="BeginString" type="STRING"/>
        <field number="35" name="MsgType" type="STRING"/>
        <field number="58" name="Text" type="STRING"/>
        <field number="448" name="PartyID" type="STRING"/>
        <field number="452" name="PartyRole" type="INT"/>
        <field number="453" name="NoPartyIDs" type="NUMINGROUP"/>
        <field number="523" name="PartySubID" type="STRING"/>
        <field number="802" name="NoPartySubIDs" type="NUMINGROUP"/>
        </fields></fix>"""
    )
    formatter = Formatter(load_dictionary(xml))
    [message] = read_messages(
        [b"8=FIX.4.4|35=X|453=2|448=A|802=2|523=a1|523=a2|452=1|448=B|58=done|"]
    )
    assert formatter.format(message).rstrip().splitlines()[1:] == [
        "  BeginString(8)=FIX.4.4",
        "  MsgType(35)=X",
        "  NoPartyIDs(453)=2",
        "    - PartyID(448)=A",
        "      NoPartySubIDs(802)=2",
        "        - PartySubID(523)=a1",
        "        - PartySubID(523)=a2",
        "      PartyRole(452)=1",
        "    - PartyID(448)=B",
        "  Text(58)=done",
    ]


@pytest.mark.parametrize("separator", [b"|", b"^A"])
def test_printable_separators(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], separator: bytes
) -> None:
    log = tmp_path / "fix.log"
    log.write_bytes(b"OUT " + ORDER.replace(b"\x01", separator) + b"\n")
    _, out, _ = run_decode(capsys, str(log), "--compact")
    assert out.startswith("OUT  NewOrderSingle (35=D)  BeginString(8)=FIX.4.2 | ")
    assert "NOT VERIFIED" not in out  # the checksum holds once separators are SOH again
    assert " | NoStrategyParameters(5957)=2 | - StrategyParameterName(5958)=riskAversion | " in out
    assert out.count("\n") == 1


def test_raw_soh_stream_on_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stream = io.TextIOWrapper(io.BytesIO(LOGON + ORDER + NEWS))
    monkeypatch.setattr(sys, "stdin", stream)
    _, out, _ = run_decode(capsys, "--compact")
    titles = [line.split("  ")[0] for line in out.splitlines()]
    assert titles == ["Logon (35=A)", "NewOrderSingle (35=D)", "News (35=B)"]


def test_bad_checksum_and_length_are_flagged_but_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad_checksum = ORDER[:-4] + b"999\x01"
    bad_length = ORDER.replace(b"9=", b"9=1", 1)
    log = tmp_path / "fix.log"
    log.write_bytes(b"x : " + bad_checksum + b"\nx : " + bad_length + b"\n")
    _, out, _ = run_decode(capsys, str(log))
    first, second = out.split("\n\n")[:2]
    assert first.startswith("x  NewOrderSingle (35=D)  [NOT VERIFIED: BAD_CHECKSUM")
    assert "  ClOrdID(11)=C1" in first
    assert second.startswith("x  NewOrderSingle (35=D)  [NOT VERIFIED: BAD_BODY_LENGTH")
    assert "  CheckSum(10)=" in second


def test_filter_by_type_and_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "fix.log"
    log.write_bytes(b"\n".join([LOGON, ORDER, NEWS, b"not a fix line"]) + b"\n")
    _, out, _ = run_decode(capsys, str(log), "--compact", "--filter", "D,news")
    assert [line.split("  ")[0] for line in out.splitlines()] == [
        "NewOrderSingle (35=D)",
        "News (35=B)",
    ]
    code, out, err = run_decode(capsys, str(log), "--filter", "Bogus")
    assert code == 2 and not out
    assert "'Bogus' is neither a MsgType nor a message name" in err


def test_values_outside_the_dictionary(capsys: pytest.CaptureFixture[str]) -> None:
    [message] = read_messages([frame("35=D|40=Z|7777=x|")])
    text = Formatter(load_dictionary()).format(message)
    assert "  OrdType(40)=Z (not in dictionary)\n" in text
    assert "  Tag7777(7777)=x\n" in text
    [unknown] = read_messages([frame("35=QQ|")])
    assert Formatter(load_dictionary()).format(unknown).startswith("MsgType<QQ> (35=QQ)\n")


def test_unreadable_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_decode(capsys, str(tmp_path / "absent.log"))
    assert code == 1 and not out
    assert "cannot read" in err


def test_a_reader_that_goes_away_is_not_an_error(tmp_path: Path) -> None:
    """`fixrouter decode LOG | head` must end quietly, not with 'Broken pipe'."""
    frame = encode_fields([(35, "0"), (34, 1), (49, "IB"), (52, "20261124-10:00:00.000"),
                           (56, "ME")])
    log = tmp_path / "big.log"
    log.write_bytes((b"20261124-10:00:00.000 : " + frame + b"\n") * 5000)
    decode = subprocess.Popen(
        [sys.executable, "-m", "fixrouter.cli", "decode", str(log)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert decode.stdout is not None
    decode.stdout.read(100)
    decode.stdout.close()  # like `head` exiting
    _, err = decode.communicate(timeout=60)
    assert decode.returncode == 0, err
    assert b"Broken pipe" not in err
