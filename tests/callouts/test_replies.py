"""Every reply form, parsed without the database."""

import pytest

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
