"""Benchmark e: launch of a 100k-recipient campaign, time and peak memory.

Time runs from start_launch() (the launch job is queued) until the campaign is running,
which is when the worker committed every recipient and its decision row. Peak memory is
the worker's VmHWM (peak resident set size) from /proc, read before and after.
"""

import time
from pathlib import Path

from campaigns.launch import start_launch
from campaigns.models import Campaign

from .stack import Stack, cancel, load_average, make_campaign


def run(recipients: int, timeout: float = 120.0) -> list[tuple[str, ...]]:
    with Stack(workers=1, web=False) as stack:
        stack.configure(webhook_delay_ms=600_000)
        campaign = make_campaign("launch", recipients)
        worker = stack.pid("worker-0")
        before = _peak_rss_mb(worker)
        started = time.monotonic()
        start_launch(campaign)
        status = "launching"
        while status == "launching" and time.monotonic() - started < timeout:
            time.sleep(0.05)
            status = Campaign.objects.values_list("status", flat=True).get(pk=campaign.pk)
        elapsed = time.monotonic() - started
        after = _peak_rss_mb(worker)
        cancel(campaign)
    row = (
        f"{recipients:,}",
        f"{elapsed:.1f} s" if status != "launching" else "timed out",
        f"{before:.0f} MB",
        f"{after:.0f} MB",
        load_average(),
    )
    print("e.", row, flush=True)
    return [row]


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM line in /proc/{pid}/status")


HEADER = (
    "Recipients",
    "Launch time",
    "Worker peak RSS before",
    "Worker peak RSS after",
    "Load avg",
)
