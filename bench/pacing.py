"""Benchmark b: the achieved WhatsApp send rate against a configured 80/s and 1,000/s,
and the count of 130429 ("rate limit hit") rejections.

The sandbox enforces the same rate per phone number id (at most N sends in any 1-second
window) and rejects sends beyond it with 130429. The rejections are counted as the
app's decision rows with that code.
"""

import time
from datetime import datetime, timedelta

from campaigns.launch import start_launch
from campaigns.models import Decision

from .stack import Stack, cancel, load_average, make_campaign, wait_for_count

RATES = (80, 1000)


def run(seconds: float) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    with Stack(workers=2, web=False) as stack:
        for rate in RATES:
            stack.configure(whatsapp_mps=rate, webhook_delay_ms=600_000, unreachable_percent=0)
            stack.sandbox("DELETE", "/_sandbox/messages")
            campaign = make_campaign(f"pacing {rate}", int(rate * (seconds + 10)), rate=rate)
            start_launch(campaign)
            # The window starts at the first send, which follows the launch job.
            first = wait_for_count(stack, "whatsapp", 1, timeout=120)
            started = _time(first[0])
            time.sleep(max(0.0, seconds + 2 - (_now() - started).total_seconds()))
            cancel(campaign)
            sent = stack.messages("whatsapp")
            in_window = [m for m in sent if _time(m) < started + timedelta(seconds=seconds)]
            achieved = len(in_window) / seconds
            throttled = Decision.objects.filter(recipient__campaign=campaign, code="130429").count()
            rows.append(
                (
                    f"{rate}",
                    f"{seconds:.0f} s",
                    f"{len(in_window)}",
                    f"{achieved:.1f}",
                    f"{100 * achieved / rate:.1f} %",
                    f"{throttled}",
                    load_average(),
                )
            )
            print("b.", rows[-1], flush=True)
    return rows


def _time(message: dict) -> datetime:
    return datetime.fromisoformat(message["time"].replace("Z", "+00:00"))


def _now() -> datetime:
    from django.utils import timezone

    return timezone.now()


HEADER = (
    "Configured msg/s",
    "Window",
    "Sent in window",
    "Achieved msg/s",
    "Share",
    "130429 rejections",
    "Load avg",
)
