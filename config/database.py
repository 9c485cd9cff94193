"""How the PostgreSQL pool (settings.DATABASES) checks a connection before handing it out.

psycopg's own check (ConnectionPool.check_connection, an empty query) finds a dead
connection, but the pool then tries the next idle one only after a back-off of 1 s,
then 2 s, 4 s...: after a database restart every idle connection is dead, and with
three of them a request waited 3 s and got no connection at all. So the first dead
connection found has the pool check every idle one at once (ConnectionPool.check: the
dead are replaced), and the request gets a live one, old or new, straight away.
"""

import atexit

from psycopg_pool import ConnectionPool


def check_connection(conn) -> None:
    try:
        ConnectionPool.check_connection(conn)
    except Exception:
        from django.db import connections

        connections["default"].pool.check()
        raise


def close_pools() -> None:
    """Close the pools this process opened. Left to the pool's __del__ at interpreter exit,
    on Python 3.13.0 each of its four threads was given 5 s to stop and never did: every
    management command on PostgreSQL (migrate, purge_history, a cron job) took 20 s longer
    to exit (psycopg issue #930)."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        # `pool` would open one: only close those that exist.
        if connection.alias in getattr(type(connection), "_connection_pools", {}):
            connection.close_pool()


atexit.register(close_pools)
