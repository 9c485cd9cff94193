"""WHO: the cadre register. Forces, negotiators, their roles and accreditation.

models.py            Force, Membership (a login's roles in one force), Negotiator (callsign,
                     roles, mobile, login), Accreditation, CadreImport (an uploaded CSV, then
                     the record of its import)
rules.py             pure: who is deployable when; local_tz(), the one time zone (settings)
importing.py         pure: reading and checking a cadre CSV: each row new, changed or unchanged
phones.py            pure: mobile numbers parsed and shown
scope.py             pure: who may read and change what (Scope, Can, incident_view, link_problem)
queries.py           reads: a login's record and memberships, logins with roles in a force,
                     the register's rows, what an import is checked against
services.py          every write, atomic: a negotiator with accreditations and login, a CSV
                     import (kept, then saved whole in a few statements), one's own mobile,
                     memberships
access.py            the one gate every view, form, API endpoint, feed and export asks: a login's
                     scope, scoped querysets, require(Can.X), the chosen force; middleware.py
                     shows the force picker
views.py             the register's pages; import_views.py the CSV import; auth_views.py login
forms.py, admin.py, throttle.py (failed logins), context_processors.py, demo.py

Arrows run one way: roster and callouts use the cadre; the cadre imports neither.
"""
