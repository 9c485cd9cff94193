"""WHO: the cadre register. Forces, negotiators, their roles and accreditation.

models.py            Force, Negotiator (callsign, roles, mobile, login), Accreditation
rules.py             pure: who is deployable when; local_tz(), the one time zone (settings)
importing.py         pure: reading and checking a cadre CSV
phones.py            pure: mobile numbers parsed and shown
queries.py           reads: which force a user is in (negotiator_for, forces_for, home_force),
                     the register's rows, what an import is checked against
services.py          every write, atomic: a negotiator with accreditations and login, a CSV
                     import, one's own mobile
access.py            who may see and do what (groups)
views.py             the register's pages; import_views.py the CSV import; auth_views.py login
forms.py, admin.py, throttle.py (failed logins), context_processors.py, demo.py

Arrows run one way: roster and callouts use the cadre; the cadre imports neither.
"""
