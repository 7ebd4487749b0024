"""Inbound sequence numbers: cases 2a-2g, 2t, 3b/3c, 10 and 11 (session-tests.md)."""

from __future__ import annotations

from fixrouter.session import DisconnectReason, EventKind, SessionState

from .conftest import Harness, delivered, disconnects, events, fields, kinds, sent


def gap_fill(h: Harness, new_seq: int, **kwargs: object) -> bytes:
    return h.msg("4", (123, "Y"), (36, new_seq), **kwargs)  # type: ignore[arg-type]


def test_2a_in_order_messages_are_saved_and_delivered(h: Harness) -> None:
    h.logon()
    actions = h.feed(h.exec_report("C1"), h.exec_report("C2"))
    assert [m.get(11) for m in delivered(actions)] == [b"C1", b"C2"]
    assert h.session.next_target_seq == 4
    assert [seq for seq, _ in h.store.iter_inbound()] == [2, 3]


def test_2b_gap_queues_later_messages_and_delivers_in_order(h: Harness) -> None:
    h.logon()
    h.peer_seq = 4  # 2 and 3 are lost
    actions = h.feed(h.exec_report("C4"))
    assert kinds(actions) == ["send:2", "event:GAP_DETECTED"]
    (request,) = sent(actions)
    assert (fields(request)[7], fields(request)[16]) == (b"2", b"0")
    assert h.session.state is SessionState.RESENDING
    # More arrive ahead of the gap: queued, and no redundant ResendRequest.
    actions = h.feed(h.exec_report("C5"))
    assert kinds(actions) == []
    # The resend: 2 and 3 as PossDup, then (16=0) 4 and 5 again.
    h.peer_seq = 2
    resend = [h.exec_report(f"C{n}", poss_dup=True, orig_sending_time=h.now - 1) for n in (2, 3)]
    actions = h.feed(*resend)
    assert [m.get(11) for m in delivered(actions)] == [b"C2", b"C3", b"C4", b"C5"]
    assert events(actions, EventKind.GAP_FILLED)
    assert h.session.state is SessionState.ACTIVE
    actions = h.feed(*[h.exec_report(f"C{n}", poss_dup=True, orig_sending_time=h.now - 1)
                       for n in (4, 5)])
    assert delivered(actions) == []
    assert len(events(actions, EventKind.POSSDUP_IGNORED)) == 2
    assert [seq for seq, _ in h.store.iter_inbound()] == [2, 3, 4, 5]


def test_2b_test_request_ahead_of_gap_is_answered_at_once(h: Harness) -> None:
    h.logon()
    h.peer_seq = 3
    actions = h.feed(h.msg("1", (112, "PING")))
    assert kinds(actions) == ["send:0", "send:2", "event:GAP_DETECTED"]
    assert fields(sent(actions)[0])[112] == b"PING"
    # The gap fill covers 2; the TestRequest at 3 is not answered twice.
    h.peer_seq = 2
    actions = h.feed(gap_fill(h, 3, poss_dup=True, orig_sending_time=h.now))
    assert sent(actions) == []
    assert h.session.next_target_seq == 4
    assert h.session.state is SessionState.ACTIVE


def test_2c_seq_too_low_without_possdup_logs_out_and_disconnects(h: Harness) -> None:
    h.logon()
    h.feed(h.exec_report(), h.exec_report())
    actions = h.feed(h.exec_report(seq=2))
    assert kinds(actions) == [
        "event:SEQ_TOO_LOW", "send:5", "event:LOGGED_OUT", "disconnect:SEQ_TOO_LOW",
    ]
    (logout,) = sent(actions)
    assert fields(logout)[58] == b"MsgSeqNum too low, expecting 4 but received 2"
    assert not h.session.operator_action_required  # only at logon (case 15)


def test_2d_bad_checksum_is_ignored_without_consuming_a_number(h: Harness) -> None:
    h.logon()
    good = h.exec_report("C2")
    bad = good[:-4] + b"%03d\x01" % ((int(good[-4:-1]) + 1) % 256)
    actions = h.feed(bad)
    assert kinds(actions) == ["event:GARBLED"]
    assert "BAD_CHECKSUM" in events(actions)[0].detail
    assert h.session.next_target_seq == 2
    # The next good message reveals the gap, recovered by ResendRequest.
    actions = h.feed(h.exec_report("C3"))
    assert fields(sent(actions)[0])[7] == b"2"


def test_3b_bad_body_length_is_ignored(h: Harness) -> None:
    h.logon()
    frame = h.exec_report("C2")
    start = frame.index(b"\x019=") + 3
    end = frame.index(b"\x01", start)
    bad = frame[:start] + b"%d" % (int(frame[start:end]) - 5) + frame[end:]
    actions = h.feed(bad)
    assert kinds(actions) and set(kinds(actions)) == {"event:GARBLED"}
    assert h.session.next_target_seq == 2 and h.session.logged_on
    # The stream resynchronises on the next frame.
    actions = h.feed(h.exec_report("C3", seq=2))
    assert [m.get(11) for m in delivered(actions)] == [b"C3"]


def test_3c_broken_framing_and_noise_are_ignored(h: Harness) -> None:
    h.logon()
    actions = h.feed(b"garbage\x01\x01", b"8=FIX.4.2\x019=ab\x0135=0\x01", h.exec_report("C2"))
    assert "event:GARBLED" in kinds(actions)
    assert [m.get(11) for m in delivered(actions)] == [b"C2"]
    assert h.session.next_target_seq == 3


def test_2t_first_three_fields_out_of_order_is_garbled(h: Harness) -> None:
    h.logon()
    frame = h.exec_report("C2")
    body = frame[frame.index(b"\x0135=") + 1 : frame.index(b"\x0110=") + 1]
    parts = body.split(b"\x01")[:-1]
    swapped = b"\x01".join([parts[1], parts[0], *parts[2:]]) + b"\x01"
    head = b"8=FIX.4.2\x019=%d\x01" % len(swapped) + swapped
    bad = head + b"10=%03d\x01" % (sum(head) % 256)
    actions = h.feed(bad)
    assert kinds(actions) == ["event:GARBLED"]
    assert "BAD_FIELD_ORDER" in events(actions)[0].detail
    assert h.session.next_target_seq == 2


def test_2e_possdup_already_seen_is_ignored_silently(h: Harness) -> None:
    h.logon()
    h.feed(h.exec_report("C2"))
    actions = h.feed(h.exec_report("C2", seq=2, poss_dup=True, orig_sending_time=h.now - 5))
    assert sent(actions) == [] and delivered(actions) == []
    assert kinds(actions) == ["event:POSSDUP_IGNORED"]
    assert h.session.logged_on


def test_2e_prime_possdup_unseen_is_processed(h: Harness) -> None:
    h.logon()
    actions = h.feed(h.exec_report("C2", poss_dup=True, orig_sending_time=h.now - 5))
    assert [m.get(11) for m in delivered(actions)] == [b"C2"]
    assert h.session.next_target_seq == 3


def test_2f_orig_sending_time_after_sending_time_rejects_then_logs_out(h: Harness) -> None:
    h.logon()
    actions = h.feed(h.exec_report("C2", poss_dup=True, orig_sending_time=h.now + 5))
    assert kinds(actions)[:4] == ["send:3", "event:REJECT_SENT", "event:PROTOCOL_ERROR", "send:5"]
    reject, _ = sent(actions)
    assert (fields(reject)[45], fields(reject)[373], fields(reject)[371]) == (b"2", b"10", b"122")
    assert delivered(actions) == []
    assert h.session.state is SessionState.LOGOUT_SENT
    actions = h.feed(h.msg("5"))
    assert disconnects(actions)[0].reason is DisconnectReason.BAD_SENDING_TIME


def test_2g_possdup_without_orig_sending_time_rejected_not_advanced(h: Harness) -> None:
    h.logon()
    actions = h.feed(h.exec_report("C2", poss_dup=True))
    (reject,) = sent(actions)
    assert (fields(reject)[35], fields(reject)[45]) == (b"3", b"2")
    assert (fields(reject)[373], fields(reject)[371]) == (b"1", b"122")
    assert delivered(actions) == []
    assert h.session.next_target_seq == 2  # not advanced
    # The next message shows the gap; the resent copy, done right, is delivered.
    actions = h.feed(h.exec_report("C3"))
    assert fields(sent(actions)[0])[7] == b"2"
    h.peer_seq = 2
    actions = h.feed(h.exec_report("C2", poss_dup=True, orig_sending_time=h.now - 1))
    assert [m.get(11) for m in delivered(actions)] == [b"C2", b"C3"]


def test_2g_repeated_offender_is_taken_rather_than_looped(h: Harness) -> None:
    h.logon()
    h.feed(h.exec_report("C2", poss_dup=True))
    actions = h.feed(h.exec_report("C2", poss_dup=True, seq=2))
    assert [m.get(11) for m in delivered(actions)] == [b"C2"]


def test_2g_in_resending_asks_again(h: Harness) -> None:
    h.logon()
    h.peer_seq = 3
    h.feed(h.exec_report("C3"))
    h.peer_seq = 2
    actions = h.feed(h.exec_report("C2", poss_dup=True))
    assert [fields(m)[35] for m in sent(actions)] == [b"3", b"2"]
    assert fields(sent(actions)[1])[7] == b"2"


def test_10_gap_fill_equal_applies(h: Harness) -> None:
    h.logon()
    actions = h.feed(gap_fill(h, 10))
    assert h.session.next_target_seq == 10
    assert events(actions, EventKind.SEQUENCE_RESET)[0].ref_seq == 10


def test_10_gap_fill_greater_requests_resend_first(h: Harness) -> None:
    h.logon()
    h.peer_seq = 4
    actions = h.feed(gap_fill(h, 10))
    assert kinds(actions) == ["send:2", "event:GAP_DETECTED"]
    assert h.session.next_target_seq == 2
    h.peer_seq = 2
    actions = h.feed(h.exec_report("C2", poss_dup=True, orig_sending_time=h.now),
                     h.exec_report("C3", poss_dup=True, orig_sending_time=h.now))
    assert len(delivered(actions)) == 2
    assert h.session.next_target_seq == 10  # the queued GapFill applied in turn
    assert h.session.state is SessionState.ACTIVE


def test_10_gap_fill_less_with_possdup_is_ignored(h: Harness) -> None:
    h.logon()
    h.feed(h.exec_report(), h.exec_report())
    actions = h.feed(gap_fill(h, 3, seq=2, poss_dup=True, orig_sending_time=h.now))
    assert sent(actions) == [] and disconnects(actions) == []
    assert h.session.next_target_seq == 4


def test_10_gap_fill_less_without_possdup_logs_out(h: Harness) -> None:
    h.logon()
    h.feed(h.exec_report(), h.exec_report())
    actions = h.feed(gap_fill(h, 3, seq=2))
    assert fields(sent(actions)[0])[58].startswith(b"MsgSeqNum too low")
    assert disconnects(actions)[0].reason is DisconnectReason.SEQ_TOO_LOW


def test_10_gap_fill_that_does_not_move_forward_is_rejected(h: Harness) -> None:
    h.logon()
    actions = h.feed(gap_fill(h, 2))
    (reject,) = sent(actions)
    assert (fields(reject)[373], fields(reject)[371]) == (b"5", b"36")
    assert h.session.next_target_seq == 3


def test_11_reset_greater_jumps_forward_whatever_its_seq(h: Harness) -> None:
    h.logon()
    actions = h.feed(h.msg("4", (36, 50), seq=999))
    assert h.session.next_target_seq == 50
    assert sent(actions) == []


def test_11_reset_equal_is_accepted(h: Harness) -> None:
    h.logon()
    actions = h.feed(h.msg("4", (123, "N"), (36, 2)))
    assert sent(actions) == [] and h.session.next_target_seq == 2
    assert events(actions, EventKind.SEQUENCE_RESET)


def test_11_reset_less_is_rejected_with_373_5(h: Harness) -> None:
    h.logon()
    h.feed(h.exec_report(), h.exec_report())
    actions = h.feed(h.msg("4", (36, 2), seq=4))
    (reject,) = sent(actions)
    assert (fields(reject)[35], fields(reject)[373], fields(reject)[371]) == (b"3", b"5", b"36")
    assert fields(reject)[45] == b"4"
    assert h.session.next_target_seq == 4


def test_11_reset_past_a_gap_ends_resending(h: Harness) -> None:
    h.logon()
    h.peer_seq = 5
    h.feed(h.exec_report("C5"))
    actions = h.feed(h.msg("4", (36, 20), seq=6))
    assert h.session.next_target_seq == 20
    assert h.session.state is SessionState.ACTIVE
    assert delivered(actions) == []  # the queued 5 was superseded by the reset


def test_missing_msg_seq_num_logs_out_and_disconnects(h: Harness) -> None:
    h.logon()
    from fixrouter.codec import encode_fields, format_utc_ms

    frame = encode_fields([(35, "0"), (49, "IB"), (56, "FIXROUTER"), (52, format_utc_ms(h.now))])
    actions = h.feed(frame)
    assert fields(sent(actions)[0])[35] == b"5"
    assert disconnects(actions)[0].reason is DisconnectReason.PROTOCOL_ERROR


def test_2b_gap_not_filled_is_asked_again_after_a_stall(h: Harness) -> None:
    h.logon()
    h.peer_seq = 4
    h.feed(h.exec_report("C4"))
    assert h.session.next_deadline() == h.now + 30
    actions = h.tick(29)
    assert "event:GAP_DETECTED" not in kinds(actions)
    actions = h.tick(1)
    assert "event:GAP_DETECTED" in kinds(actions)
    requests = [m for m in sent(actions) if m.msg_type == b"2"]
    assert fields(requests[0])[7] == b"2"
    # Progress (a GapFill for 2) restarts the clock rather than asking again.
    h.now += 10
    h.feed(gap_fill(h, 3, seq=2, poss_dup=True, orig_sending_time=h.now))
    assert "event:GAP_DETECTED" not in kinds(h.tick(25))


def test_logon_answer_and_messages_in_one_read(h: Harness) -> None:
    h.connect()
    actions = h.feed(h.logon_answer(), h.exec_report("C2"), h.msg("1", (112, "X")))
    assert kinds(actions) == ["event:LOGGED_ON", "deliver:8", "send:0"]
