"""WHEN: the on-call rota. Who is on call in which role, gaps in cover, iCal, reminders.

models.py            Rota, CoverageRule, RotationPattern, Shift, Unavailability, RotaChange
                     (the audit), SwapRequest, FeedToken, Reminder (an outbox callouts sends)
rules/               pure decisions, no database
  __init__.py          on call, coverage and gaps, conflicts, rotations, local wall-clock time
  reminders.py         which reminders are due
queries.py           reads: a rota's data for the rules (load), on_call for callouts, who can take
                     a shift (the pickers), a coordinator's last change to undo, and every
                     read the pages make (shifts, swaps, absences, feeds)
services.py          every write, atomic; changes to the rota are checked and audited
tasks.py             the background job: queue due reminders (calls services)
views/               the web
  board.py             the coordinators' week and month board and every edit made on it
  grid.py              the board's rows, built from loaded rota data
  planning.py          rotations, generating shifts, unavailability, cover rules, the audit
  mine.py              a negotiator's own shifts, swaps, unavailability, calendar link
  feeds.py             iCalendar feeds, opened by the secret in their URL
panels.py            the rota's part of the dashboard
forms.py, admin.py, urls.py, demo.py

Arrows run one way: roster uses cadre; callouts uses roster. Inside: views -> services ->
rules, queries -> rules.
"""
