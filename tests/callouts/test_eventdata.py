"""Each kind of event's data, written down once (callouts.eventdata), and every kind read by
the timeline."""

from datetime import UTC, datetime

import pytest

from callouts import eventdata, events, timeline
from callouts.models import Event

T0 = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)


def test_it_writes_down_the_data_of_every_kind():
    assert set(eventdata.SHAPES) == set(Event.Kind)


def test_it_describes_every_kind_on_the_timeline():
    assert set(timeline.DESCRIBE) == set(Event.Kind)
    for kind in Event.Kind:
        assert timeline.describe(timeline.EventFacts(at=T0, kind=kind))


def test_it_refuses_data_a_kind_does_not_keep():
    with pytest.raises(ValueError, match="keep no asked"):
        events.build(1, Event.Kind.ACCEPTED, eta=5, asked=3)
    with pytest.raises(ValueError, match="keep no colour"):
        eventdata.lookup(Event.Kind.STEP_FIRED, "colour")


def test_it_keeps_what_was_given_and_reads_only_the_kinds_keys():
    event = events.build(1, Event.Kind.STEP_FIRED, step=2, asked=3, alerted=0, next_at=None)
    assert event.data == {"step": 2, "asked": 3, "alerted": 0}
    assert eventdata.read(Event.Kind.ETA, {"eta": 5, "stray": 1}) == {"eta": 5}
    assert eventdata.lookup(Event.Kind.STEP_FIRED, "asked", "gt") == "data__asked__gt"
