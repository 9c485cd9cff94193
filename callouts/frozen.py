"""Frozen escalation steps: a policy's steps as they were when an incident was raised.

Kept on the incident (Incident.steps, JSON) so that editing a policy never changes a live
callout, and read back through `read_all` (Incident.frozen_steps) as FrozenStep values:
nothing reads the stored dicts by key. `version` says which shape a stored step has; steps
stored before it was written down have no version and are version 1 (the same keys), so
stored incidents keep their JSON.

At the bottom of the house: pure, no imports from the app.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

VERSION = 1


@dataclass(frozen=True)
class FrozenStep:
    audience: str  # callouts.models.Audience
    channel: str  # callouts.models.Channel
    # Minutes after this step before the next one fires (if still short); 0: at once.
    wait_minutes: int = 0
    # The named people (negotiator ids) of a "named" step.
    named: tuple[int, ...] = ()
    version: int = VERSION

    def to_json(self) -> dict:
        return {
            "audience": self.audience,
            "channel": self.channel,
            "wait_minutes": self.wait_minutes,
            "named": list(self.named),
            "version": self.version,
        }


def step(audience, channel, wait_minutes=0, named=()) -> FrozenStep:
    """A step from its parts (choices and ids as given: strings, enums, numbers)."""
    return FrozenStep(
        audience=str(audience),
        channel=str(channel),
        wait_minutes=int(wait_minutes),
        named=tuple(sorted(int(pk) for pk in named)),
    )


def read(data: Mapping | FrozenStep) -> FrozenStep:
    """One stored step (any version this code knows) as a FrozenStep."""
    if isinstance(data, FrozenStep):
        return data
    version = int(data.get("version", 1))
    if version != VERSION:
        raise ValueError(f"A frozen step of version {version}: this code reads {VERSION}.")
    return step(
        data["audience"], data["channel"], data.get("wait_minutes", 0), data.get("named", ())
    )


def read_all(steps: Iterable | None) -> tuple[FrozenStep, ...]:
    return tuple(read(s) for s in steps or ())


def dump(steps: Iterable) -> list[dict]:
    """Steps as stored on the incident."""
    return [read(s).to_json() for s in steps]
