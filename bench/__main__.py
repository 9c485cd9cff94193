"""`make bench`: run every registered benchmark, or those named on the command line.

Each benchmark is a module in bench/ with a `main()` that prints its figures.
"""

import importlib
import subprocess
import sys

BENCHMARKS = {
    "callout_speed": "bench.callout_speed",
    "figures": "bench.figures",
    "cadre": "bench.cadre",
    "record": "bench.record",
    "reply_speed": "bench.reply_speed",
    "roster": "bench.roster",
    "webhook_load": "bench.webhook_load",
}


def main(argv):
    names = argv or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        sys.exit(f"Unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    if len(names) > 1:
        # Each in a process of its own: a benchmark sets up Django and its database
        # (DATABASE_URL, settings) for itself, and must not inherit another's.
        failed = [
            name
            for name in names
            if subprocess.run([sys.executable, "-m", "bench", name], check=False).returncode
        ]
        if failed:
            sys.exit(f"Benchmark(s) failed: {', '.join(failed)}")
        return
    for name in names:
        print(f"== {name}", flush=True)
        importlib.import_module(BENCHMARKS[name]).main()


if __name__ == "__main__":
    main(sys.argv[1:])
