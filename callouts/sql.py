"""The SQL of the callouts app that the ORM cannot write as cheaply: plain statements, each
checked against the ORM's way of doing the same on the same data (tests/callouts/test_sql.py).

Everything else goes through the ORM (docs/decisions/0004-django-orm-and-where-sql-remains.md).
"""

from django.db import connection

# A batch of provider sids saved in one statement, only on messages still SENDING (a status
# callback that came first has moved the status on and keeps its own). The ORM writes this
# as a lock of those rows, then an UPDATE with a CASE per sid, whose compiling cost more
# than the sending (a 300-SMS step spent a fifth of its CPU there). `{values}`: one
# "(%s, %s, %s)" (id, status, sid) a message.
RECORD_SENT = (
    "WITH v(id, status, sid) AS (VALUES {values}) "
    "UPDATE callouts_message SET status = v.status, provider_sid = v.sid, sent_at = %s, "
    "status_at = %s, next_attempt_at = NULL "
    "FROM v WHERE callouts_message.id = v.id AND callouts_message.status = %s "
    "RETURNING callouts_message.id"
)


def record_sent(sent: list[tuple[int, str, str]], now, sending: str) -> set[int]:
    """Give each message of `sent` (id, status, sid) its status and sid, sent at `now`, if it
    is still `sending`; the ids of those changed."""
    if not sent:
        return set()
    at = connection.ops.adapt_datetimefield_value(now)
    sql = RECORD_SENT.format(values=", ".join(["(%s, %s, %s)"] * len(sent)))
    params = [value for row in sent for value in row]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, at, at, sending])
        return {pk for (pk,) in cursor.fetchall()}
