"""Taking phone numbers out of what leaves the system (cadre.phones.scrub, which every CSV
export cell goes through): every phone number goes, nothing else is touched. Hypothesis
writes numbers as people do, and dates, times, durations, references and callsigns as the
exports and the log do."""

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cadre.phones import scrub
from callouts.messaging.reference import make_reference
from callouts.timeline import t_plus

SEPARATORS = ["", " ", "-", " - ", "–", "\u00a0", "  "]
WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ABCXYZ,;:!?'\"()", max_size=20)


@st.composite
def uk_numbers(draw):
    """A UK mobile or landline as someone might type it: national or +44 / 0044, its digits
    in groups split by spaces, dashes or nothing, the area code perhaps in brackets."""
    start, more = draw(st.sampled_from([("07", 9), ("01", 9), ("01", 8), ("02", 9), ("03", 9)]))
    national = start + draw(st.text(alphabet="0123456789", min_size=more, max_size=more))
    form = draw(st.sampled_from(["national", "+44", "+44 (0)", "0044"]))
    body = national if form == "national" else national[1:]
    # An area code is at least 3 digits (020); 2 after +44 (+44 20 …).
    first = 3 if form == "national" else 2
    cuts = sorted(draw(st.sets(st.integers(first, len(body) - 1), max_size=4)))
    groups = [body[i:j] for i, j in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    bracketed = form == "national" and len(groups) > 1 and draw(st.booleans())
    seps = [draw(st.sampled_from(SEPARATORS)) for _ in groups[1:]]
    if bracketed:
        groups[0] = f"({groups[0]})"
        seps[0] = draw(st.sampled_from(["", " "]))
    written = groups[0] + "".join(s + g for s, g in zip(seps, groups[1:], strict=True))
    if form != "national":
        written = form + draw(st.sampled_from(["", " ", "-"])) + written
    return national, written


@given(number=uk_numbers(), before=WORDS, after=WORDS)
def test_no_phone_number_survives_the_scrubber(number, before, after):
    national, written = number
    scrubbed = scrub(f"{before}{written}{after}")
    assert "[number]" in scrubbed
    assert not any(ch.isdigit() for ch in scrubbed), (written, scrubbed)


LONDON = ZoneInfo("Europe/London")
TIME_FORMATS = [
    "%Y-%m-%d",
    "%H:%M",
    "%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y",
    "%d.%m.%Y %H:%M",
    "%d %b %Y %H:%M",
    "%Y%m%dT%H%M%S",
]
moments = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2100, 12, 31), timezones=st.just(LONDON)
)
times = st.one_of(
    st.builds(lambda at: at.isoformat(), moments),
    st.builds(lambda at: at.isoformat(timespec="seconds"), moments),
    st.builds(lambda at: at.astimezone(UTC).isoformat(sep=" "), moments),
    st.builds(lambda at, f: at.strftime(f), moments, st.sampled_from(TIME_FORMATS)),
    st.builds(lambda at: at.date().isoformat(), moments),
)
durations = st.one_of(
    st.builds(lambda m: f"{m:.1f}", st.floats(-1e6, 1e7, allow_nan=False)),
    st.builds(str, st.integers(-(10**6), 10**9)),
    st.builds(lambda s: t_plus(timedelta(seconds=s)), st.integers(-86_400, 10**7)),
)
references = st.builds(
    lambda code, seed, digits: make_reference(code, random.Random(seed), digits),
    st.from_regex(r"\A[A-Z]{0,5}[0-9]?\Z"),
    st.integers(),
    st.sampled_from([2, 3]),
)
callsigns = st.from_regex(r"\A[A-Z]{1,8}(-?[0-9]{1,3})?(-[A-Z]{1,8}(-?[0-9]{1,3})?){0,2}\Z")
not_phones = st.one_of(times, durations, references, callsigns)


@given(value=not_phones)
def test_the_scrubber_never_changes_a_time_duration_reference_or_callsign(value):
    assert scrub(value) == value


@given(
    values=st.lists(not_phones, min_size=2, max_size=5),
    joiner=st.sampled_from([", ", "; ", " to ", " at ", " | ", "\n"]),
)
def test_the_scrubber_leaves_them_alone_side_by_side(values, joiner):
    text = joiner.join(values)
    assert scrub(text) == text


@given(times=st.lists(times, min_size=2, max_size=4), joiner=st.sampled_from([" ", " - "]))
def test_the_scrubber_leaves_a_span_of_times_alone(times, joiner):
    text = joiner.join(times)
    assert scrub(text) == text


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        ("ring 07700 900123 or +447700900123", "ring [number] or [number]"),
        ("(01632) 960123", "[number]"),
        ("call (07700 900123) now", "call ([number]) now"),
        ("+44 (0)7700 900123", "[number]"),
        ("0044 7700 900123", "[number]"),
        ("Tel:07700900123.", "Tel:[number]."),
        ("0161 496 0000; 0800 123 4567", "[number]; [number]"),
        ("raised [number]:45", "raised [number]:45"),
        ("2026-01-10 10:45", "2026-01-10 10:45"),
        ("01-07-2026 14:02:05", "01-07-2026 14:02:05"),
        ("01-07-2026 - 02-07-2026", "01-07-2026 - 02-07-2026"),
        ("14:02 - 2026-07-01 15:00", "14:02 - 2026-07-01 15:00"),
        ("2026-07-01T14:02:05+01:00", "2026-07-01T14:02:05+01:00"),
        ("T+0:06", "T+0:06"),
        ("KNT-TANGO-27", "KNT-TANGO-27"),
    ],
)
def test_it_scrubs_these(text, scrubbed):
    assert scrub(text) == scrubbed
