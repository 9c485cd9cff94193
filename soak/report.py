"""A scenario's clock, its waiting for the app to settle, and its verdict as printed figures."""

import os
import threading
import time
from dataclasses import dataclass, field

from soak import ledger

_print_lock = threading.Lock()


def say(text: str):
    with _print_lock:
        print(text, flush=True)


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


@dataclass
class Result:
    number: int
    title: str
    figures: ledger.Figures | None = None
    recovery_to_last: float | None = None
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # anything besides loss and doubling
    seconds: float = 0.0
    error: str = ""

    @property
    def passed(self) -> bool:
        if self.error or self.figures is None:
            return False
        return not (self.figures.lost or self.figures.duplicates or self.problems)


class Clock:
    """Seconds since the scenario began, and waiting for a moment of its timeline."""

    def __init__(self, number: int):
        self.number = number
        self.t0 = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self.t0

    def at(self, seconds: float):
        time.sleep(max(0.0, self.t0 + seconds - time.monotonic()))

    def log(self, text: str):
        say(f"  [{self.number}] {self.now():6.1f}s  {text}")


def settle(stack, clock: Clock, timeout: float, since: float) -> ledger.Figures:
    """Wait until nothing is on its way (twice in a row), or `timeout`; then measure."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while True:
        try:
            figures = ledger.measure(stack, since)
        except Exception as e:  # the database may still be coming back
            clock.log(f"cannot measure yet: {type(e).__name__}")
            figures = None
        if figures is not None:
            quiet = quiet + 1 if figures.unsettled == 0 else 0
            if quiet >= 3 or time.monotonic() >= deadline:
                if quiet < 3:
                    waiting = figures.unsettled
                    clock.log(f"still unsettled after {timeout:.0f}s: {waiting} on their way")
                return figures
        elif time.monotonic() >= deadline:
            raise RuntimeError("could not measure: the database did not answer")
        time.sleep(1)


def block(result: Result) -> str:
    verdict = "PASS" if result.passed else "FAIL"
    lines = [f"== {result.number}. {result.title}: {verdict} ({result.seconds:.0f}s)"]
    if result.error:
        lines.append(f"   the scenario could not run: {result.error}")
        return "\n".join(lines)
    f = result.figures
    lines.append(f"   {'':12}{'due':>6}{'delivered':>11}{'doubled':>9}{'lost':>6}")
    for kind, t in f.tallies.items():
        lines.append(f"   {kind:12}{t.due:6}{t.delivered:11}{t.duplicates:9}{t.lost:6}")
    lines.append(f"   {'total':12}{f.due:6}{f.delivered:11}{f.duplicates:9}{f.lost:6}")
    recovery = "-" if result.recovery_to_last is None else f"{result.recovery_to_last:.1f}s"
    lines.append(
        f"   recovery to last delivery {recovery}; still on their way {f.unsettled}; "
        f"given up (failed) {f.failed}; taken but not ours {f.stray}"
    )
    lines += [f"   {note}" for note in result.notes]
    shown = f.examples[:6]
    lines += [f"   e.g. {example}" for example in shown]
    if len(f.examples) > len(shown):
        lines.append(f"   ... and {len(f.examples) - len(shown)} more doubled or lost")
    reasons = []
    if f.lost:
        reasons.append(f"{f.lost} lost")
    if f.duplicates:
        reasons.append(f"{f.duplicates} doubled")
    reasons += result.problems
    if reasons:
        lines.append("   FAIL: " + "; ".join(reasons))
    return "\n".join(lines)


def summary(results: list[Result]) -> str:
    lines = [
        "== soak summary",
        f"   {'scenario':44}{'due':>6}{'deliv':>7}{'doubled':>9}{'lost':>6}"
        f"{'recovery':>10}  verdict",
    ]
    for r in results:
        f = r.figures
        due, delivered, doubled, lost = (
            (f.due, f.delivered, f.duplicates, f.lost) if f else ("-", "-", "-", "-")
        )
        recovery = "-" if r.recovery_to_last is None else f"{r.recovery_to_last:.1f}s"
        title = f"{r.number}. {r.title}"[:43]
        lines.append(
            f"   {title:44}{due:>6}{delivered:>7}{doubled:>9}{lost:>6}{recovery:>10}  "
            + ("PASS" if r.passed else "FAIL")
        )
    return "\n".join(lines)
