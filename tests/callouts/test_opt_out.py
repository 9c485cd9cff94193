"""What a carrier keyword changes, decided without the database."""

import pytest

from callouts.engine.opt_out import Change, change

STOPPED, NOT_STOPPED = True, False


@pytest.mark.parametrize(
    ("kind", "is_yes", "stopped", "expected"),
    [
        # STOP between incidents or during one: remembered on the person, on live callouts.
        (
            "opt_out",
            False,
            NOT_STOPPED,
            Change(True, "stop", True, only_keyword=True, may_text=False),
        ),
        # STOP again: the first STOP's time is kept.
        (
            "opt_out",
            False,
            STOPPED,
            Change(None, "stop", True, only_keyword=True, may_text=False),
        ),
        ("opt_in", False, STOPPED, Change(False, "start", False, only_keyword=True)),
        ("opt_in", False, NOT_STOPPED, Change(None, "start", False, only_keyword=True)),
        ("help", False, NOT_STOPPED, Change(keyword="help", only_keyword=True, send_help=True)),
        # The provider would refuse the answer: none is tried.
        ("help", False, STOPPED, Change(keyword="help", only_keyword=True, may_text=False)),
        # YES turns texts back on and is then an acceptance.
        ("accept", True, STOPPED, Change(texts_stopped=False, sms_unreachable=False)),
        ("accept", True, NOT_STOPPED, Change(sms_unreachable=False)),
        # Y is not the provider's opt-in word: a stopped person stays stopped, unanswered.
        ("accept", False, STOPPED, Change(may_text=False)),
        ("accept", False, NOT_STOPPED, Change()),
        ("decline", False, NOT_STOPPED, Change()),
        ("unknown", False, STOPPED, Change(may_text=False)),
    ],
)
def test_it_decides_what_a_keyword_changes(kind, is_yes, stopped, expected):
    assert change(kind, is_yes=is_yes, stopped=stopped) == expected
