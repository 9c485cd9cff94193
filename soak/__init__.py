"""`make soak`: fault scenarios against real processes, judged on loss and doubling.

__main__    the run: a PostgreSQL of its own, the template database, the scenarios, the verdict
postgres    initdb / pg_ctl in a temporary directory on a free port (as `postgres` when root)
stack       one scenario's app: its database (a template copy), stand-in, gunicorn, qcluster
            (or several, on Redis), escalator; kills and restarts
broker      a Redis server of its own (redis-server on a free port), scenario 7's broker
seed        the cadre, policy and API token in the template database (runs under Django)
traffic     the control room's API calls and Twilio's signed replies and status callbacks,
            each timed and kept
phones      phones answering callouts, and a steady stream of replies
ledger      due, delivered, doubled and lost, from the database and the stand-in
report      a scenario's clock, waiting for it to settle, printed figures
scenarios   1 slow provider, 2 provider outage, 3 queue workers killed
scenarios_app  4 escalator killed, 5 PostgreSQL restarted, 6 storm
scenarios_scale  7 two worker machines on Redis, one SIGKILLed mid-send
scenarios_locks  8 stand-downs during a storm of Twilio's status callbacks
"""
