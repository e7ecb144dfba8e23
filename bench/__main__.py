"""Run the benchmarks a-e and print their results as Markdown tables.

    .venv/bin/python -m bench            # full durations, about 12 minutes
    .venv/bin/python -m bench --quick    # short durations, about 4 minutes
    .venv/bin/python -m bench --only b   # one benchmark

Uses the PostgreSQL database `bench` and Redis database 8 (see bench/stack.py).
"""

import argparse
import os
import platform
import subprocess
from datetime import UTC, datetime

from .stack import load_average, setup_django


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="use short durations")
    parser.add_argument("--only", default="abcde", help="letters of the benchmarks to run")
    args = parser.parse_args()
    setup_django()
    from . import dispatch_rate, fallback, launch, pacing, webhooks

    quick = args.quick
    plans = {
        "a": (
            "a. Dispatch throughput",
            dispatch_rate,
            lambda: dispatch_rate.run(1000 if quick else 2000, 3 if quick else 10, 90),
        ),
        "b": ("b. Pacing", pacing, lambda: pacing.run(10 if quick else 60)),
        "c": ("c. Webhook ingestion", webhooks, lambda: webhooks.run(10 if quick else 30)),
        "d": ("d. Fallback latency", fallback, lambda: fallback.run(400 if quick else 2400)),
        "e": ("e. Launch", launch, lambda: launch.run(10_000 if quick else 100_000)),
    }
    print(_machine(), flush=True)
    tables = []
    for letter in args.only:
        title, module, run = plans[letter]
        tables.append((title, module.HEADER, run()))
    print()
    for title, header, rows in tables:
        print(f"### {title}\n")
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for row in rows:
            print("| " + " | ".join(row) + " |")
        print()
    print(f"load average at the end: {load_average()}")


def _machine() -> str:
    model = next(
        (line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if "model name" in line),
        platform.processor(),
    )
    memory_kb = next(int(line.split()[1]) for line in open("/proc/meminfo") if "MemTotal" in line)
    postgres = subprocess.run(
        ["psql", "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return (
        f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, nproc: {os.cpu_count()}, "
        f"CPU: {model}, memory: {memory_kb / 1024 / 1024:.0f} GB, {postgres}, "
        f"load average at the start: {load_average()}"
    )


if __name__ == "__main__":
    main()
