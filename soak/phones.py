"""Negotiators' phones: answering the callouts the stand-in took, and a steady stream of replies.

Replies carry the incident's reference ("Y 10 SOK-TANGO-27"), as a negotiator
with several live callouts must. Both run in a thread of their own until stopped.
"""

import heapq
import random
import threading
import time

from soak.seed import PEOPLE, mobile

UNKNOWN = [f"+447700900{n:03d}" for n in range(900, 920)]


def callout_reference(body: str) -> str | None:
    """SOK-TANGO-27 from 'CALLOUT SOK-TANGO-27: Barricade, ...'."""
    if not body or not body.startswith("CALLOUT "):
        return None
    return body.split()[1].rstrip(":")


class Phones(threading.Thread):
    """Each phone that gets a callout may answer it, 1 to 4 seconds later.

    `answer(rng, reference)` returns the reply's text, or None to stay silent.
    """

    def __init__(self, stack, answer, seed=1):
        super().__init__(daemon=True)
        self.stack, self.answer = stack, answer
        self.rng = random.Random(seed)
        self.done = threading.Event()
        self.asked: list[tuple[str, str]] = []  # (number, reference) of every callout taken

    def run(self):
        seen, due = 0, []
        while not self.done.is_set():
            taken = self.stack.standin.accepted()
            for message in taken[seen:]:
                reference = callout_reference(message["body"])
                if reference is None:
                    continue
                self.asked.append((message["to"], reference))
                text = self.answer(self.rng, reference)
                if text:
                    when = time.monotonic() + self.rng.uniform(1, 4)
                    heapq.heappush(due, (when, message["to"], text))
            seen = len(taken)
            while due and due[0][0] <= time.monotonic():
                _, number, text = heapq.heappop(due)
                self.stack.web.reply(number, text)
            time.sleep(0.2)

    def stop(self):
        self.done.set()
        self.join(5)


def usual_answer(accept=0.3, decline=0.2):
    def answer(rng, reference):
        roll = rng.random()
        if roll < accept:
            return f"Y {rng.choice([5, 10, 20])} {reference}"
        if roll < accept + decline:
            return f"N {reference}"
        return None

    return answer


class Stream(threading.Thread):
    """`per_minute` replies a minute, evenly spaced, until stopped.

    Mostly from people asked (their callouts' references), some from cadre phones
    about an incident that is not theirs, some from numbers not in the cadre.
    """

    BODIES = ("Y {eta} {ref}", "N {ref}", "ETA {eta} {ref}", "ARRIVED {ref}", "Y {ref}")

    def __init__(self, stack, per_minute, references, phones=None, seed=2):
        super().__init__(daemon=True)
        self.stack, self.every = stack, 60.0 / per_minute
        self.references, self.phones = references, phones
        self.rng = random.Random(seed)
        self.done = threading.Event()
        self.sent = 0

    def pick(self):
        rng = self.rng
        roll = rng.random()
        if roll < 0.08:
            return rng.choice(UNKNOWN), rng.choice(["hello?", "who is this", "Y"])
        if roll < 0.12:
            return mobile(rng.randint(1, PEOPLE)), rng.choice(["what is this", "HELP", "Y"])
        if self.phones is not None and self.phones.asked and roll < 0.8:
            number, ref = rng.choice(self.phones.asked)
        else:
            number, ref = mobile(rng.randint(1, PEOPLE)), rng.choice(self.references or ["X-1"])
        return number, rng.choice(self.BODIES).format(eta=rng.choice([5, 10, 25]), ref=ref)

    def run(self):
        next_at = time.monotonic()
        while not self.done.is_set():
            number, body = self.pick()
            self.stack.web.reply(number, body)
            self.sent += 1
            next_at += self.every
            self.done.wait(max(0.0, next_at - time.monotonic()))

    def stop(self):
        self.done.set()
        self.join(5)
