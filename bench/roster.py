"""Rota speed: coverage over a year, and the coordinators' month view, for a cadre of 60."""

import random
from datetime import date, time, timedelta

from bench.harness import Figure, setup_django, show, summary, timings_ms
from cadre.rules import Period
from roster import rules

CADRE = 60
YEAR_START = date(2026, 1, 5)  # a Monday


def year_of_rota(seed: int = 7):
    """Weekly rotations for every role over 365 days, plus covers, absences and lapses."""
    rng = random.Random(seed)
    people = []
    for i in range(1, CADRE + 1):
        roles = (
            ("negotiator",)
            + (("coordinator",) if i % 6 == 0 else ())
            + (("adviser",) if i % 10 == 0 else ())
        )
        until = date(2027, 6, 30) if i % 15 else date(2026, 8, 31)  # a few lapse mid-year
        people.append(
            rules.Person(i, f"N-{i:02d}", True, (Period(date(2024, 1, 1), until),), roles)
        )
    end_day = YEAR_START + timedelta(days=365)
    spans = []
    for role, at_once in (("negotiator", 2), ("coordinator", 1), ("adviser", 1)):
        order = tuple(p.id for p in people if role in p.roles)
        rotation = rules.Rotation(role, order, on_at_once=at_once, starts_on=YEAR_START)
        spans += rules.generate(rotation, YEAR_START, end_day)
    # Overrides: 150 covers of part of a shift (the shift split in three).
    for shift in rng.sample(spans, 150):
        cut = shift.start + timedelta(hours=rng.randrange(1, 100))
        back = cut + timedelta(hours=rng.randrange(4, 48))
        if back >= shift.end:
            continue
        spans.remove(shift)
        coverer = rng.randrange(1, CADRE + 1)
        spans += [
            rules.Span(shift.negotiator_id, shift.role, shift.start, cut),
            rules.Span(coverer, shift.role, cut, back),
            rules.Span(shift.negotiator_id, shift.role, back, shift.end),
        ]
    absences = []
    for _ in range(200):
        start = rules.at_local(
            YEAR_START + timedelta(days=rng.randrange(365)), time(rng.randrange(24))
        )
        absences.append(
            rules.Absence(
                rng.randrange(1, CADRE + 1), start, start + timedelta(days=rng.randrange(1, 10))
            )
        )
    return (
        spans,
        absences,
        people,
        rules.at_local(YEAR_START, time(0)),
        rules.at_local(end_day, time(0)),
    )


def coverage_year():
    spans, absences, people, start, end = year_of_rota()
    minimums = {"negotiator": 2, "coordinator": 1, "adviser": 1}
    result = rules.coverage(spans, absences, people, minimums, start, end)
    samples = timings_ms(lambda: rules.coverage(spans, absences, people, minimums, start, end))
    figures = summary(f"coverage ({len(spans)} shifts, {len(absences)} absences)", samples, 100)
    figures[0].what += f", {len(result.gaps)} gaps found"
    return figures


def month_view():
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    coordinator = month_view_data()
    client = Client()
    client.force_login(coordinator)
    url = "/rota/board/?view=month&at=2026-03-01"
    assert client.get(url).status_code == 200
    connection.queries_log.clear()  # DEBUG filled it while building data; it holds 9000 at most
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    figures = summary("month view server time", timings_ms(lambda: client.get(url)), 300)
    figures.append(Figure("SQL queries per month view", len(ctx.captured_queries), ""))
    return figures


def month_view_data():
    """60 negotiators of one force with weekly rotations, covers and absences, Feb–Apr 2026."""
    from django.contrib.auth.models import User

    from cadre.models import Accreditation, Force, Membership, Negotiator
    from roster import queries, services
    from roster.models import RotationPattern, Shift, Unavailability

    force = Force.objects.create(name="Bench Constabulary", code="BEN")
    people = []
    for i in range(1, CADRE + 1):
        n = Negotiator(
            force=force, callsign=f"BEN-{i:02d}", full_name=f"Bench {i}", mobile=f"+4477009{i:05d}"
        )
        n.roles = ["negotiator"] + (["coordinator"] if i % 6 == 0 else [])
        people.append(n)
    Negotiator.objects.bulk_create(people)
    Accreditation.objects.bulk_create(
        Accreditation(
            negotiator=n,
            kind="initial",
            passed_on=date(2024, 1, 1),
            valid_until=date(2026, 3, 20) if i % 15 == 0 else date(2028, 1, 1),
        )
        for i, n in enumerate(people, start=1)
    )
    rota = queries.rota_for(force)
    user = User.objects.create_user("bench-coordinator")
    Membership.objects.create(user=user, force=force, is_coordinator=True)
    for role, at_once in (("negotiator", 2), ("coordinator", 1)):
        pattern = RotationPattern.objects.create(
            rota=rota,
            name=role,
            role=role,
            on_at_once=at_once,
            starts_on=date(2026, 2, 2),
            order=[n.pk for n in people if n.has_role(role)],
        )
        services.generate(rota, pattern, date(2026, 2, 1), date(2026, 5, 1), True, "bench", by=user)
    rng = random.Random(3)
    for shift in rng.sample(list(Shift.objects.live().filter(role="negotiator")), 12):
        coverer = rng.choice(people)
        try:
            services.cover(
                shift,
                coverer,
                shift.start + timedelta(days=1),
                shift.start + timedelta(days=2),
                "bench",
                by=user,
            )
        except services.Refused:
            continue
    for n in rng.sample(people, 20):
        start = rules.at_local(date(2026, 3, rng.randrange(1, 28)), time(9))
        Unavailability.objects.create(negotiator=n, start=start, end=start + timedelta(days=2))
    return user


def main():
    setup_django()  # the rules' local time zone is settings.TIME_ZONE
    show("coverage over 365 days, cadre of 60 (pure rules)", coverage_year())
    show("month view, cadre of 60 (in-process client, throwaway SQLite)", month_view())
