"""How the PostgreSQL pool (settings.DATABASES) checks a connection before handing it out.

psycopg's own check (ConnectionPool.check_connection, an empty query) finds a dead
connection, but the pool then tries the next idle one only after a back-off of 1 s,
then 2 s, 4 s...: after a database restart every idle connection is dead, and with
three of them a request waited 3 s and got no connection at all. So the first dead
connection found has the pool check every idle one at once (ConnectionPool.check: the
dead are replaced), and the request gets a live one, old or new, straight away.
"""

from psycopg_pool import ConnectionPool


def check_connection(conn) -> None:
    try:
        ConnectionPool.check_connection(conn)
    except Exception:
        from django.db import connections

        connections["default"].pool.check()
        raise
