"""Which callout a reply is about (callouts.engine.reply_target): a table of cases, no database."""

import pytest

from callouts.engine import reply_target
from callouts.engine.reply_target import EARLIER, Asked, Choice, Target

TANGO = Asked(1, "KNT-TANGO-27", "TANGO-27")
ROMEO = Asked(2, "KNT-ROMEO-40", "ROMEO-40")
OLD = Asked(3, "KNT-DELTA-11", "DELTA-11")  # stood down or closed
OLDER = Asked(4, "KNT-ECHO-12", "ECHO-12")

# (case, live, reference, earlier) -> (how many earlier it needs, choice)
CASES = [
    ("their one live callout", [TANGO], "", [], 0, Choice(Target.CALLOUT, 1)),
    (
        "several live: ask which",
        [TANGO, ROMEO],
        "",
        [],
        0,
        Choice(Target.WHICH_INCIDENT, references=("KNT-TANGO-27", "KNT-ROMEO-40")),
    ),
    ("several live, one named", [TANGO, ROMEO], "ROMEO-40", [], 0, Choice(Target.CALLOUT, 2)),
    (
        "none live: their latest callout (answered not needed)",
        [],
        "",
        [OLD, OLDER],
        1,
        Choice(Target.CALLOUT, 3),
    ),
    ("never called out", [], "", [], 1, Choice(Target.NO_CALLOUT)),
    (
        "a reference to an earlier incident of theirs",
        [TANGO],
        "ECHO-12",
        [TANGO, OLD, OLDER],
        EARLIER,
        Choice(Target.CALLOUT, 4),
    ),
    (
        "a reference of none of theirs: their live references back",
        [TANGO, ROMEO],
        "FOXTROT-99",
        [TANGO, ROMEO, OLD],
        EARLIER,
        Choice(Target.UNKNOWN_REFERENCE, references=("KNT-TANGO-27", "KNT-ROMEO-40")),
    ),
    (
        "a reference of none of theirs with nothing live",
        [],
        "FOXTROT-99",
        [OLD],
        EARLIER,
        Choice(Target.UNKNOWN_REFERENCE),
    ),
    (
        "a live reference wins over an earlier callout of the same key",
        [TANGO],
        "TANGO-27",
        [Asked(9, "XYZ-TANGO-27", "TANGO-27")],
        0,
        Choice(Target.CALLOUT, 1),
    ),
]


@pytest.mark.parametrize(
    "live, reference, earlier, wanted, choice",
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_it_chooses_the_callout_as_the_table_says(live, reference, earlier, wanted, choice):
    assert reply_target.earlier_wanted(live, reference) == wanted
    assert reply_target.choose(live, reference, earlier[:wanted]) == choice


def test_it_reads_no_earlier_callouts_when_the_live_ones_decide():
    assert reply_target.earlier_wanted([TANGO], "") == 0
    assert reply_target.earlier_wanted([TANGO, ROMEO], "") == 0
    assert reply_target.earlier_wanted([TANGO, ROMEO], "TANGO-27") == 0
