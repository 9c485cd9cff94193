"""django-q2's database broker, woken by PostgreSQL NOTIFY instead of sleeping its poll.

The ORM broker keeps the queue in the database (in the transaction of the data
it is about) and, when the queue is empty, sleeps `poll` seconds before looking
again: up to 0.2 s between a task queued and a worker starting it, on every hop.
Here a task queued also sends a NOTIFY (config.wakeup.QUEUE), and the cluster's
pusher, finding the queue empty, waits on LISTEN for up to `poll` seconds: it
takes the task within milliseconds, and still looks every `poll` seconds (tasks
whose lock ran out are retried, as before). On SQLite it is the ORM broker as is.
Set in settings.Q_CLUSTER["broker_class"] when DATABASE_URL is PostgreSQL and
REDIS_URL is unset (the Redis broker blocks on its list already).
"""

from django_q.brokers.orm import ORM
from django_q.conf import Conf

from config import wakeup


class ListeningORM(ORM):
    listener: wakeup.Listener | None = None

    def enqueue(self, task):
        pk = super().enqueue(task)
        wakeup.notify(wakeup.QUEUE, alias=Conf.ORM)
        return pk

    def dequeue(self):
        if self.listener is None:
            # Listening before the first look: a task queued after it wakes the wait.
            self.listener = wakeup.Listener(wakeup.QUEUE, alias=Conf.ORM)
        # Oldest first (the ORM broker hands them out in no particular order).
        tasks = (
            self.get_connection()
            .filter(key=self.list_key, lock__lt=self._now())
            .order_by("id")[0 : Conf.BULK]
        )
        if tasks:
            taken = []
            for task in tasks:
                claimed = (
                    self.get_connection()
                    .filter(id=task.id, lock=task.lock)
                    .update(lock=self.timeout(task))
                )
                if claimed:  # else another cluster was faster
                    taken.append((task.pk, task.payload))
            return taken
        self.listener.wait(Conf.POLL)
        return None

    @staticmethod
    def _now():
        from django.utils import timezone

        return timezone.now()
