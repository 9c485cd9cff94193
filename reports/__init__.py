"""Reports: what a supervisor reports on, and who looks after the negotiators.

Response figures for a period, each negotiator's workload with the flags a supervisor acts
on, welfare follow-ups for everyone who went, CSV exports (audited), the access audit page,
and purging old message texts (`manage.py purge_history`). It reads the permanent record
(callouts' Incident, Deployment, Callout), the event log and the rota; it never changes them.

models.py     FollowUp (a welfare follow-up recorded for a deployment), WorkloadSettings
              (per force: the flags' thresholds)
rules.py      pure: periods, percentiles, per-role timings, rostered hours and nights,
              flags, follow-up due/overdue, sorting, CSV cells without phone numbers
charts.py     pure: bar-chart geometry for server-rendered SVG
queries.py    reads: figures (counted and grouped in the database), workload, follow-ups,
              the access audit
services.py   every write, atomic: a follow-up recorded, a force's workload settings,
              purging history
exports.py    CSV for the incident list, a timeline and the workload table
views.py      the pages and the exports; forms.py; panels.py (the dashboard's part)
demo.py       a year of past incidents for Wessex, raised and answered through callouts'
              own services and engine
management/commands/purge_history.py

Arrows: reports -> callouts -> roster -> cadre; nothing below imports reports.
"""
