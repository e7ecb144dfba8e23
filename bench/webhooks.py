"""Benchmark c: webhook ingestion at 3x the send rate.

A campaign sends at 80 messages/s and the sandbox replies to every message with three
statuses (sent, delivered, read), so statuses arrive at 240/s. A status's latency runs
from the moment the sandbox schedules it (its send time in the sandbox log plus
`webhook_delay_ms` per status) to `processed_at` of the stored event in the DB, which is
after the RQ job applied it.
"""

import json
import time
from datetime import datetime, timedelta

from django.utils import timezone

from campaigns.launch import start_launch
from messaging.models import ProviderEvent

from .stack import Stack, cancel, load_average, make_campaign, percentile, wait_for_count

SEND_RATE = 80
DELAY_MS = 200
ORDER = {"sent": 1, "delivered": 2, "read": 3}


def run(seconds: float) -> list[tuple[str, ...]]:
    recipients = int(SEND_RATE * seconds)
    with Stack(workers=2) as stack:
        stack.configure(
            read_percent=100,
            unreachable_percent=0,
            webhook_delay_ms=DELAY_MS,
            whatsapp_mps=SEND_RATE,
        )
        since = timezone.now()
        campaign = make_campaign("webhooks", recipients, rate=SEND_RATE)
        start_launch(campaign)
        sent = wait_for_count(stack, "whatsapp", recipients, timeout=seconds * 3 + 30)
        expected = 3 * len(sent)
        latencies = _wait_for_statuses(sent, since, expected, timeout=60)
        cancel(campaign)
    done = [finished for finished, _ in latencies]
    span = (max(done) - min(done)).total_seconds() if len(done) > 1 else 0.0
    values = [latency for _, latency in latencies]
    row = (
        f"{SEND_RATE}",
        f"{3 * SEND_RATE}",
        f"{len(values)} of {expected}",
        f"{len(values) / span:.0f}" if span else "-",
        f"{percentile(values, 0.5) * 1000:.0f} ms",
        f"{percentile(values, 0.99) * 1000:.0f} ms",
        load_average(),
    )
    print("c.", row, flush=True)
    return [row]


def _wait_for_statuses(sent, since, expected, timeout):
    scheduled = {m["id"]: _time(m) for m in sent}
    deadline = time.monotonic() + timeout
    while True:
        latencies = []
        events = ProviderEvent.objects.filter(received_at__gte=since, processed_at__isnull=False)
        for body, processed_at in events.values_list("body", "processed_at"):
            assert processed_at is not None  # the filter above excludes unprocessed events
            for status in _statuses(body):
                base = scheduled.get(status.get("id"))
                if base is None:
                    continue
                due = base + timedelta(milliseconds=DELAY_MS * ORDER.get(status["status"], 1))
                latencies.append((processed_at, (processed_at - due).total_seconds()))
        if len(latencies) >= expected or time.monotonic() >= deadline:
            return latencies
        time.sleep(1.0)


def _statuses(body: str) -> list[dict]:
    found = []
    for entry in json.loads(body).get("entry", []):
        for change in entry.get("changes", []):
            found += change.get("value", {}).get("statuses", [])
    return found


def _time(message: dict) -> datetime:
    return datetime.fromisoformat(message["time"].replace("Z", "+00:00"))


HEADER = (
    "Send msg/s",
    "Statuses offered/s",
    "Statuses applied",
    "Applied/s",
    "p50",
    "p99",
    "Load avg",
)
