"""What was due, what the provider took, what was doubled and what was lost.

"Delivered" means taken by the stand-in (it sends no status callbacks). Each
message the stand-in takes carries our Message id (from the status-callback URL),
so a duplicate is one Message taken more than once; two messages with the same
text (two "ETA noted" answers, a callout on two incidents) are not duplicates.
Identical texts to one number are interchangeable, though: when the outcome of two
of them is lost (say, as the database stops), the provider can only be asked by
number and text, so reconciling may adopt one's send for the other and send that
one again. The phone then has exactly the texts it was due, and so does the ledger:
a message taken twice gives its spare copy to an identical one, to the same number,
that the provider never took (`_interchange`). A phone given more identical texts
than were due is still a duplicate.

Due, per kind of outgoing SMS:
- callout: every callout Message the engine saved (one per incident, round, step,
  channel and person: a unique constraint) unless the app cancelled it before it
  was handed over (the person answered, or the incident filled or was stood down
  first) and it had not reached the provider anyway. One that ends failed, pending
  or sending without reaching the provider is lost;
- stand-down: one for every callout stood down (everyone asked or accepted when the
  incident filled or was stood down; not a late acceptance, which is answered
  instead). A stood-down callout with no stand-down Message is lost too;
- answer: one for every reply taken in, counted per phone (an answer is not linked
  to its reply): fewer answer Messages than replies is a loss, more a duplicate;
- other (alerts): every one saved and not cancelled.
And in: every reply the harness POSTed (each MessageSid once, whatever the webhook
answered: Twilio does not retry a 500) must be taken in as one inbound Message.
"""

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

KINDS = ("callout", "stand-down", "answer", "other", "reply in")
PURPOSE = {"callout": "callout", "stand_down": "stand-down", "reply": "answer"}


@dataclass
class Tally:
    due: int = 0
    delivered: int = 0
    duplicates: int = 0
    lost: int = 0


@dataclass
class Figures:
    tallies: dict = field(default_factory=lambda: {k: Tally() for k in KINDS})
    unsettled: int = 0  # outgoing pending/sending, replies not yet handled, replies in flight
    failed: int = 0  # outgoing Messages the app gave up on
    stray: int = 0  # messages the stand-in took that match no Message of ours
    # time.monotonic() of the last message taken after `since` that was saved before it:
    # the backlog a recovery had to clear
    last_arrival: float | None = None
    examples: list = field(default_factory=list)  # a few doubled or lost, to start looking
    suspects: list = field(default_factory=list)  # ids of Messages doubled or lost

    @property
    def due(self):
        return sum(t.due for t in self.tallies.values())

    @property
    def delivered(self):
        return sum(t.delivered for t in self.tallies.values())

    @property
    def duplicates(self):
        return sum(t.duplicates for t in self.tallies.values())

    @property
    def lost(self):
        return sum(t.lost for t in self.tallies.values())


def measure(stack, since=0.0) -> Figures:
    """The figures now; `since` (monotonic): the recovery whose backlog `last_arrival` times."""
    figures = Figures()
    arrivals = stack.standin.accepted()
    taken = Counter(m["message_id"] for m in arrivals)
    first_taken = {}
    for m in arrivals:
        first_taken.setdefault(m["message_id"], m["received_at"])
    last_taken = {m["message_id"]: m["received_at"] for m in arrivals}
    out = stack.sql(
        "SELECT id, purpose, status, to_number, callout_id, created_at, attempts, error_code, "
        "body FROM callouts_message "
        "WHERE direction = 'out' AND channel = 'sms' AND to_number <> ''"
    )
    taken = _interchange(taken, out)
    cutoff = datetime.now(UTC) - timedelta(seconds=time.monotonic() - since)
    backlog = {row[0] for row in out if row[5] < cutoff}
    figures.last_arrival = max(
        (
            m["received_at"]
            for m in arrivals
            if m["received_at"] >= since and m["message_id"] in backlog
        ),
        default=None,
    )
    known = {row[0] for row in out}
    figures.stray = sum(n for pk, n in taken.items() if pk not in known)
    answers_to = Counter()
    stand_downs_for = set()
    end = datetime.now(UTC)
    for pk, purpose, status, to_number, callout_id, made, attempts, error, _ in out:
        tally = figures.tallies[PURPOSE.get(purpose, "other")]
        if purpose == "reply":
            answers_to[to_number] += 1
        if purpose == "stand_down":
            stand_downs_for.add(callout_id)
        count = taken.get(pk, 0)
        tally.duplicates += max(0, count - 1)
        if status in ("pending", "sending"):
            figures.unsettled += 1
        figures.failed += status == "failed"
        if count > 1 or (not count and status != "cancelled"):
            figures.suspects.append(pk)
            figures.examples.append(
                f"message {pk} ({purpose} to {to_number}): {status} after {attempts} attempt(s)"
                + (f", error {error}" if error else "")
                + f"; made {(end - made).total_seconds():.0f}s before the end"
                + f"; taken by the provider {count} time(s)"
                + (
                    f", the last {last_taken[pk] - first_taken[pk]:.1f}s after the first"
                    if count > 1
                    else ""
                )
            )
        if status == "cancelled" and not count:
            continue  # the app decided, before handing it over, that it was not needed
        tally.due += 1
        if count:
            tally.delivered += 1
        else:
            tally.lost += 1
    _expected_stand_downs(stack, figures, stand_downs_for)
    _replies(stack, figures, answers_to)
    return figures


def _interchange(taken: Counter, out) -> Counter:
    """Taken counts with each spare copy of a text given to an identical one never taken."""
    taken = Counter(taken)
    groups = defaultdict(list)
    for pk, _, status, to_number, *_, body in out:
        groups[(to_number, body)].append((pk, status))
    for members in groups.values():
        spare = [pk for pk, _ in members for _ in range(max(0, taken.get(pk, 0) - 1))]
        for pk, status in sorted(members):
            if not spare:
                break
            if not taken.get(pk) and status != "cancelled":
                taken[spare.pop()] -= 1
                taken[pk] += 1
    return taken


def _expected_stand_downs(stack, figures, stand_downs_for):
    stood_down = stack.sql(
        "SELECT id FROM callouts_callout WHERE state = 'stood_down' AND NOT late "
        "AND NOT sms_unreachable"
    )
    missing = [pk for (pk,) in stood_down if pk not in stand_downs_for]
    figures.examples += [f"callout {pk} stood down, but no stand-down saved" for pk in missing]
    missing = len(missing)
    tally = figures.tallies["stand-down"]
    tally.due += missing
    tally.lost += missing


def _replies(stack, figures, answers_to):
    with stack.web.lock:
        posted = list(stack.web.replies)
        in_flight = stack.web.submitted - len(posted)
    figures.unsettled += max(0, in_flight)
    inbound = stack.sql(
        "SELECT provider_sid, status, from_number FROM callouts_message "
        "WHERE direction = 'in' AND channel = 'sms'"
    )
    by_sid = {sid: (status, number) for sid, status, number in inbound}
    tally = figures.tallies["reply in"]
    expected_answers = defaultdict(int)
    for reply in posted:
        tally.due += 1
        found = by_sid.get(reply.sid)
        if found is None:
            tally.lost += 1
            continue
        tally.delivered += 1
        status, number = found
        if status == "received":
            figures.unsettled += 1
        expected_answers[number] += 1
    answers = figures.tallies["answer"]
    for number in set(expected_answers) | set(answers_to):
        missing = expected_answers[number] - answers_to[number]
        if missing > 0:
            answers.due += missing
            answers.lost += missing
        else:
            answers.duplicates += -missing


def evidence(stack, figures, path):
    """Every doubled or lost Message's row and what the stand-in took for it, as JSON."""
    import json

    if not figures.suspects:
        return None
    rows = stack.sql(
        "SELECT row_to_json(m) FROM callouts_message m WHERE id = ANY(%s) ORDER BY id",
        (figures.suspects,),
    )
    wanted = set(figures.suspects)
    accepted = stack.standin.accepted()
    taken = [
        {k: v for k, v in m.items() if k != "url"} for m in accepted if m["message_id"] in wanted
    ]
    for record in taken:
        # Twilio lists a number's messages newest first: how many came after this one.
        record["newer_to_same_number"] = sum(
            1
            for m in accepted
            if m["to"] == record["to"] and m["received_at"] > record["received_at"]
        )
    path.write_text(json.dumps({"messages": [r[0] for r in rows], "taken": taken}, indent=1))
    return path
