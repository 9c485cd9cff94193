"""`make soak`: the fault scenarios, each PASS or FAIL; exits 1 on any loss or duplicate.

SOAK_ONLY=2,5 runs some of them. Scenario 2 (a 3-minute outage) runs beside 1, 3,
4, 7 and 8, each on its own database, stand-in and processes; 5 (which stops PostgreSQL)
and 6 (the storm) run alone afterwards. See docs/operations.md, "Fault scenarios".
"""

import os
import signal
import sys
import threading
import time
import traceback
from types import SimpleNamespace

from soak import (
    postgres,
    report,
    scenarios,
    scenarios_app,
    scenarios_locks,
    scenarios_scale,
    stack,
)

SCENARIOS = {
    1: ("provider answering after 20 s for 45 s", scenarios.slow_provider),
    2: ("provider failing with 500 for 3 min", scenarios.outage),
    3: ("queue workers SIGKILLed during escalations", scenarios.worker_kills),
    4: ("escalator killed and restarted", scenarios_app.escalator_kill),
    5: ("PostgreSQL stopped for 30 s", scenarios_app.database_restart),
    6: ("storm: 20 incidents, 200 replies a minute", scenarios_app.storm),
    7: ("two worker machines on Redis, one SIGKILLed", scenarios_scale.two_machines),
    8: (
        "stand-downs during a storm of status callbacks",
        scenarios_locks.stand_downs_in_a_callback_storm,
    ),
}
BESIDE_OTHERS = (2,)
ALONE = (5, 6)


def chosen() -> list[int]:
    raw = os.environ.get("SOAK_ONLY", "").replace(" ", "")
    if not raw:
        return list(SCENARIOS)
    numbers = sorted({int(n) for n in raw.split(",") if n})
    unknown = [n for n in numbers if n not in SCENARIOS]
    if unknown:
        sys.exit(f"SOAK_ONLY: no scenario {unknown}; there are {list(SCENARIOS)}")
    return numbers


def run(number, server, token, results):
    title, scenario = SCENARIOS[number]
    result = report.Result(number, title)
    ctx = SimpleNamespace(
        server=server,
        token=token,
        settle_s=report.env_float("SOAK_SETTLE_S", 45),
        clock=report.Clock(number),
        result=result,
    )
    began = time.monotonic()
    report.say(f"-- {number}. {title}: starting")
    try:
        scenario(ctx)
    except Exception as e:
        result.error = f"{type(e).__name__}: {e}"
        report.say(traceback.format_exc())
    result.seconds = time.monotonic() - began
    results[number] = result
    report.say(report.block(result))


def _interrupted(*_):
    raise KeyboardInterrupt


def main():
    numbers = chosen()
    signal.signal(signal.SIGTERM, _interrupted)
    began = time.monotonic()
    results: dict[int, report.Result] = {}
    server = postgres.Server()
    try:
        server.init().start()
        report.say(f"soak: PostgreSQL of its own on port {server.port} ({server.root})")
        token = stack.prepare(server)
        report.say(f"soak: template database ready after {time.monotonic() - began:.0f}s")
        beside = [
            threading.Thread(target=run, args=(n, server, token, results), daemon=True)
            for n in numbers
            if n in BESIDE_OTHERS
        ]
        for thread in beside:
            thread.start()
        for n in numbers:
            if n not in BESIDE_OTHERS and n not in ALONE:
                run(n, server, token, results)
        for thread in beside:
            thread.join()
        for n in numbers:
            if n in ALONE:
                run(n, server, token, results)
    except KeyboardInterrupt:
        report.say("soak: interrupted; stopping everything it started")
        raise SystemExit(130) from None
    finally:
        stack.stop_all()
        server.close()
    ordered = [results[n] for n in numbers if n in results]
    report.say(report.summary(ordered))
    report.say(f"soak: {time.monotonic() - began:.0f}s in all")
    if not all(r.passed for r in ordered):
        sys.exit(1)


if __name__ == "__main__":
    main()
