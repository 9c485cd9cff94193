"""Every reply form, parsed without the database."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callouts.messaging.replies import parse, reference_key

ACCEPTS = [
    ("Y", None),
    ("y", None),
    ("YES", None),
    ("yes", None),
    ("Yes!", None),
    ("1", None),
    ("ATTEND", None),
    ("attend.", None),
    ("  y  ", None),
    ("Y 20", 20),
    ("y20", 20),
    ("yes 20 mins", 20),
    ("YES 20 MINUTES", 20),
    ("Y, 15 min", 15),
    ("y, eta 20", 20),
    ("1 30", 30),
]


@pytest.mark.parametrize(("text", "eta"), ACCEPTS)
def test_it_understands_an_acceptance(text, eta):
    reply = parse(text)
    assert (reply.kind, reply.eta_minutes, reply.reference) == ("accept", eta, None)


@pytest.mark.parametrize("text", ["N", "n", "NO", "no.", "2", "DECLINE", "decline", " No! "])
def test_it_understands_a_decline(text):
    assert parse(text).kind == "decline"


@pytest.mark.parametrize(("text", "eta"), [("ETA 15", 15), ("eta 15 mins", 15), ("Eta: 40", 40)])
def test_it_understands_an_eta_update(text, eta):
    reply = parse(text)
    assert (reply.kind, reply.eta_minutes) == ("eta", eta)


@pytest.mark.parametrize("text", ["ARRIVED", "arrived.", "Arrived!"])
def test_it_understands_arrival(text):
    assert parse(text).kind == "arrived"


@pytest.mark.parametrize(
    ("text", "kind", "eta"),
    [
        ("Y TANGO-27", "accept", None),
        ("y knt-tango-27", "accept", None),
        ("KNT TANGO 27 Y 20", "accept", 20),
        ("yes 20 TANGO 27", "accept", 20),
        ("N tango-27", "decline", None),
        ("tango27 n", "decline", None),
        ("ETA 15 TANGO-27", "eta", 15),
    ],
)
def test_it_finds_a_reference_anywhere(text, kind, eta):
    reply = parse(text)
    assert (reply.kind, reply.eta_minutes, reply.reference) == (kind, eta, "TANGO-27")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("STOP", "opt_out"),
        ("stop", "opt_out"),
        ("Unsubscribe", "opt_out"),
        ("CANCEL", "opt_out"),
        ("END", "opt_out"),
        ("QUIT", "opt_out"),
        ("HELP", "help"),
        ("info", "help"),
        ("START", "opt_in"),
        ("unstop", "opt_in"),
    ],
)
def test_it_recognises_carrier_keywords(text, kind):
    assert parse(text).kind == kind


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "maybe",
        "no problem, on my way",
        "2 20",
        "Y 9999",
        "Y maybe",
        "ok",
        "ETA soon",
        "?",
    ],
)
def test_it_does_not_guess(text):
    assert parse(text).kind == "unknown"


def test_reference_key_is_the_word_and_number():
    assert reference_key("KNT-TANGO-27") == "TANGO-27"


@pytest.mark.parametrize("text", ["Y -5", "ETA -5", "y - 5", "ETA −5", "Y 20-25"])
def test_it_does_not_drop_a_minus_sign_into_an_eta(text):
    assert parse(text).kind == "unknown"


@pytest.mark.parametrize(
    ("text", "kind", "eta"),
    [
        ("ETA 0", "eta", 0),
        ("Y 0", "accept", 0),
        ("Ｙ ２０", "accept", 20),
        ("ＥＴＡ　１５", "eta", 15),
    ],
)
def test_it_reads_zero_and_full_width_digits_as_they_look(text, kind, eta):
    assert (parse(text).kind, parse(text).eta_minutes) == (kind, eta)


KINDS = {"accept", "decline", "eta", "arrived", "opt_out", "opt_in", "help", "unknown"}


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_no_text_makes_the_parser_raise_and_its_answers_are_sane(text):
    reply = parse(text)
    assert reply.kind in KINDS
    if reply.eta_minutes is not None:
        assert 0 <= reply.eta_minutes <= 600
        assert reply.kind in {"accept", "eta"}
    if reply.kind == "eta":
        assert reply.eta_minutes is not None
    if reply.reference is not None:
        assert re.fullmatch(r"[A-Z]+-\d{2,3}", reply.reference)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["Y", "yes", "N", "ETA", "arrived", "1", "2"]),
    st.integers(min_value=-1000, max_value=1000),
    st.sampled_from(["", " ", ", ", " eta "]),
)
def test_a_number_after_an_answer_is_an_eta_only_when_it_could_be_one(word, number, glue):
    reply = parse(f"{word}{glue}{number}")
    if reply.eta_minutes is not None:
        assert reply.eta_minutes == number
        assert 0 <= number <= 600
