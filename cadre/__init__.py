"""WHO: the cadre register. Forces, negotiators, their roles and accreditation.

models.py            Force, Membership (a login's roles in one force), Negotiator (callsign,
                     roles, mobile, login), Accreditation, CadreImport (an uploaded CSV, then
                     the record of its import)
rules.py             pure: who is deployable when; local_tz(), the one time zone (settings)
importing.py         pure: reading and checking a cadre CSV: each row new, changed or unchanged
phones.py            pure: mobile numbers parsed and shown
codes.py             pure: two-factor codes as typed and shown (app codes, recovery codes, key)
scope.py             pure: who may read and change what (Scope, Can, incident_view, link_problem);
                     which people of an incident a login sees, by name or callsign (People);
                     who must use two-factor login (second_factor) and who may reset it
queries.py           reads: a login's record, memberships and two-factor state, logins with
                     roles in a force, the register's rows, what an import is checked against
services.py          every write, atomic: a negotiator with accreditations and login, a CSV
                     import (kept, then saved whole in a few statements), one's own mobile,
                     memberships; two-factor devices (django-otp), each change recorded in the
                     admin's history of the login
tasks.py             the clock's hourly job: forget CSV uploads never confirmed
access.py            the one gate every view, form, API endpoint, feed and export asks: a login's
                     scope, scoped querysets, require(Can.X), the chosen force; middleware.py
                     shows the force picker and sends a login owing its second factor to it
views.py             the register's pages; import_views.py the CSV import; auth_views.py login;
                     twofactor_views.py the code, set-up, recovery codes, turning off, reset
forms.py, admin.py, throttle.py (failed logins), context_processors.py, demo.py

Arrows run one way: roster and callouts use the cadre; the cadre imports neither.
"""
