"""The soak's ledger: identical texts to one number are interchangeable, nothing more."""

from collections import Counter

from soak.ledger import _interchange


def row(pk, to="+447700900001", body="ETA 10 min noted", status="sent"):
    # id, purpose, status, to_number, callout_id, created_at, attempts, error_code, body
    return (pk, "reply", status, to, None, None, 1, "", body)


def test_it_gives_a_spare_copy_to_an_identical_text_the_provider_never_took():
    # Two identical answers: the one never taken was reconciled onto the other's send,
    # so the other went again. The phone has the two texts it was due.
    assert _interchange(Counter({1: 2}), [row(1), row(2)]) == Counter({1: 1, 2: 1})


def test_it_still_counts_a_text_doubled_beyond_what_was_due():
    assert _interchange(Counter({1: 2, 2: 1}), [row(1), row(2)]) == Counter({1: 2, 2: 1})


def test_it_never_lends_a_copy_to_another_text_number_or_a_cancelled_message():
    out = [row(1), row(2, body="Other"), row(3, to="+447700900002"), row(4, status="cancelled")]
    assert _interchange(Counter({1: 2}), out) == Counter({1: 2})
