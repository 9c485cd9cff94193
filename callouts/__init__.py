"""Callouts: WHAT happens when an incident is raised. Arrows point down this list only
(tests/test_imports.py checks them, and that no module imports itself round a circle).

web/        the edges: pages (views, policy_views), the control-room API (api, openapi,
            tokens), forms, the phone simulator, Twilio's webhooks (webhooks, webhook_urls),
            the dashboard panel
services    every change an edge asks for: raise, raise needs, call again, stand down, close,
            an answer given on the web page or by phone (through engine.answers.record), a
            page by hand, policies
queries     reads for pages and the API: who may see which incident, and its board
board       pure: an incident's callouts as board rows, groups and counts (who went from
            deployments)
timeline    pure: an incident's events as timeline lines, and who went per role
engine/     escalation: policy (frozen steps), escalation (pure decide; what "filled" is),
            audiences (who a step reaches), steps (fire one), answering (pure: what an
            answer changes), answers (load it under the incident's lock and save it; fill,
            stand down), intake (take a reply in, or spool it while the database is
            down), inbound (understand a reply or a keypress), reply_target (pure: which
            callout a reply is about), clock (what is due now), hands (pure: what a
            coordinator may record for someone by phone, or page by hand)
messaging/  the transport: outbox (messages saved before sending), sending (to the gateway,
            side by side), budget (provider requests in flight: one budget per machine),
            gateways/ (Twilio, simulator), status (provider callbacks), texts and voice (what
            is said), replies (pure parse), reference, reminders (roster's), spool (inbound
            SMS kept on this server's disk while the database is down)
rules       pure: what a valid incident is (one check for the form, the API and the service)
deployed    pure: who went (a place filled, not late, not withdrawn), the one definition, with
            its twin as a filter (Deployment.objects.went())
frozen      pure: an incident's frozen escalation steps (FrozenStep, versioned), read back from
            its JSON through one function
eventdata   what each kind of event keeps in its data (one TypedDict per Event.Kind); events
            refuses a key not named there, the timeline and the reports read through it
events      the incident's append-only log: every layer above writes its events through it,
            in the transaction of the change (bulk on the hot paths)
tasks       names every background task; imports nothing from the app
models
"""
