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


ACCEPTS_AS_PEOPLE_SEND_THEM = [
    ("Y 1hr", 60),
    ("y 1 hr", 60),
    ("Y 1 hour", 60),
    ("Y 2 hours", 120),
    ("yes an hour", 60),
    ("Y one hour", 60),
    ("yes half an hour", 30),
    ("Y half hour", 30),
    ("Y quarter of an hour", 15),
    ("Y 90 mins", 90),
    ("Y 1.5 hrs", 90),
    ("Y 1h30", 90),
    ("y 1 hr 30 mins", 90),
    ("Y an hour and a half", 90),
    ("Yes, one and a half hours", 90),
    ("Y twenty mins", 20),
    ("Y twenty-five minutes", 25),
    ("Y 20 minutes away", 20),
    ("Y 20 min away", 20),
    ("Y, I'm 20 mins away", 20),
    ("Y in an hour", 60),
    ("Y about 40 mins", 40),
    ("Yes be there in 20", 20),
    ("Yes on my way", None),
    ("yes, on my way!", None),
    ("Y omw", None),
    ("Y omw 20", 20),
    ("omw", None),
    ("OMW 15 mins", 15),
    ("On my way", None),
    ("on my way, 1hr", 60),
    ("en route", None),
    ("Yes I'll be there", None),
    ("Yes coming", None),
    ("yes attending, leaving now", None),
]


@pytest.mark.parametrize(("text", "eta"), ACCEPTS_AS_PEOPLE_SEND_THEM)
def test_it_understands_acceptances_with_times_in_hours_or_words_and_on_my_way(text, eta):
    reply = parse(text)
    assert (reply.kind, reply.eta_minutes, reply.reference) == ("accept", eta, None)


DECLINES_AS_PEOPLE_SEND_THEM = [
    "No sorry",
    "no, sorry",
    "N sorry",
    "No. Apologies",
    "N - at hospital",
    "N at hospital",
    "No, on leave",
    "N working late",
    "No - I've been drinking",
    "Nope, kids",
    "nah sorry",
    "Sorry no",
    "Sorry, N",
    "Can't",
    "can't make it sorry",
    "Cannot attend",
    "Not available",
    "No, not coming",
    "No not available, in Spain",
    "Unable to attend",
]


@pytest.mark.parametrize("text", DECLINES_AS_PEOPLE_SEND_THEM)
def test_it_understands_a_decline_with_an_apology_or_a_reason(text):
    reply = parse(text)
    assert (reply.kind, reply.eta_minutes, reply.reference) == ("decline", None, None)


@pytest.mark.parametrize(
    ("text", "eta"),
    [("ETA 1hr", 60), ("eta half an hour", 30), ("ETA 20 mins away", 20), ("ETA in 10", 10)],
)
def test_it_understands_an_eta_update_in_hours_or_words(text, eta):
    assert (parse(text).kind, parse(text).eta_minutes) == ("eta", eta)


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
        ("Y 1hr TANGO-27", "accept", 60),
        ("Y 1HR TANGO 27", "accept", 60),
        ("Yes on my way TANGO 27", "accept", None),
        ("omw tango-27 20 mins", "accept", 20),
        ("No sorry TANGO-27", "decline", None),
        ("KNT-TANGO-27 N - at hospital", "decline", None),
        ("N - at hospital, tango 27", "decline", None),
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
        "not sure",
        "Y or N",
        "N or Y",
        "yes or no",
        "maybe later",
        "No, maybe later",
        "no not sure",
        "Sorry, on my way",
        "No way",
        "N 20",
        "No, in an hour",
        "no but I can come later",
        "2 sorry",
        "Y twenty",
        "Y ten",
        "Y hour",
        "1hr",
        "1 hour",
        "20 min away",
        "Y away",
        "Im away",
        "Y a couple of hours",
        "Y soon",
        "Y but not till 6",
        "Y 1 hr 75",
        "Y 11 hours",
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


REASON_WORDS = ["AT", "HOSPITAL", "SORRY", "WORK", "ILL", "KIDS", "LEAVE", "AWAY", "ABROAD"]
REASON_WORDS.remove("ILL")  # "I'll": could mean coming


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["N", "No", "no,", "N -", "Sorry no", "nope"]),
    st.lists(st.sampled_from(REASON_WORDS), max_size=5),
)
def test_a_decline_followed_by_a_reason_is_still_a_decline(no, reason):
    assert parse(" ".join([no, *reason])).kind == "decline"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["Y", "yes", "N", "no", "sorry", "on my way", "20", "mins", "an hour", "at work"]
        ),
        max_size=6,
    ),
    st.sampled_from(["maybe", "or", "not sure", "if", "perhaps"]),
    st.integers(min_value=0, max_value=6),
)
def test_a_reply_that_says_it_is_not_sure_is_never_taken_as_an_answer(words, unsure, at):
    words.insert(min(at, len(words)), unsure)
    assert parse(" ".join(words)).kind == "unknown"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["sorry", "at", "hospital", "20", "mins", "on my way", "omw", "an hour"]),
        max_size=4,
    ),
    st.sampled_from(["Y", "yes", "attending"]),
    st.sampled_from(["N", "no", "nope", "decline"]),
    st.booleans(),
)
def test_a_reply_with_both_a_yes_and_a_no_is_never_taken_as_an_answer(words, yes, no, yes_first):
    first, second = (yes, no) if yes_first else (no, yes)
    assert parse(" ".join([first, *words, second])).kind == "unknown"
