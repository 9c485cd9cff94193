"""Shared helpers for benchmarks: timing, figures with goals, an in-process Django."""

import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Figure:
    what: str
    value: float
    unit: str = "ms"
    goal: float | None = None  # the figure must stay below this

    def line(self) -> str:
        verdict = ""
        if self.goal is not None:
            met = "ok" if self.value < self.goal else "MISSED"
            verdict = f"  (goal < {self.goal:g} {self.unit}: {met})"
        return f"  {self.what}: {self.value:.1f} {self.unit}{verdict}"


def setup_django():
    """Django in this process, on a throwaway SQLite database under var/ (unless DATABASE_URL)."""
    root = Path(__file__).resolve().parent.parent
    if not os.environ.get("DATABASE_URL"):
        db = root / "var" / "bench.sqlite3"
        db.parent.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("Q_SYNC", "true")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    setup_test_environment()
    call_command("migrate", verbosity=0, interactive=False)


def show(title: str, figures: list[Figure]):
    print(title)
    for figure in figures:
        print(figure.line(), flush=True)


def timings_ms(func, repeat: int = 10, warmup: int = 1) -> list[float]:
    for _ in range(warmup):
        func()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def summary(what: str, samples: list[float], goal: float | None = None) -> list[Figure]:
    """Median and worst of the samples; the goal is judged on the median."""
    return [
        Figure(f"{what}, median of {len(samples)}", statistics.median(samples), goal=goal),
        Figure(f"{what}, worst", max(samples)),
    ]


def page_figures(client, urls: dict[str, str], goal_ms: float, repeat: int = 15) -> list[Figure]:
    """Median server time of each page beside the goal, then the SQL queries each takes.

    `client` is a logged-in django.test.Client; each page is fetched once first (it must
    answer 200) so caches are warm, as for a user who has the app open.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    figures, counts = [], []
    for what, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        # DEBUG keeps at most 9,000 queries: a full log would capture nothing.
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        timed = timings_ms(lambda u=url: client.get(u), repeat=repeat)
        figures += summary(what, timed, goal_ms)[:1]
        counts.append(Figure(f"SQL queries, {what}", len(ctx.captured_queries), ""))
    return figures + counts
