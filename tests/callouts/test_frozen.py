"""Frozen steps (callouts.frozen): read back from the incident's JSON, old shape included."""

import pytest

from callouts import frozen
from callouts.engine.policy import DEFAULT_STEPS, freeze
from callouts.frozen import FrozenStep


def test_it_reads_steps_stored_before_they_had_a_version():
    stored = {"audience": "named", "channel": "sms", "wait_minutes": 5, "named": [9, 3]}
    assert frozen.read(stored) == FrozenStep("named", "sms", 5, (3, 9), version=1)


def test_it_reads_back_what_it_stores():
    steps = freeze(None)
    assert len(steps) == len(DEFAULT_STEPS)
    stored = frozen.dump(steps)
    assert all(s["version"] == frozen.VERSION for s in stored)
    assert frozen.read_all(stored) == tuple(steps)


def test_it_refuses_a_version_it_does_not_know():
    with pytest.raises(ValueError, match="version 2"):
        frozen.read({"audience": "on_call", "channel": "sms", "version": 2})
