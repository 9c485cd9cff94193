# Incident, EscalationPolicy, Callout, Message, Response: see issue 4.
