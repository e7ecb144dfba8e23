"""Benchmark a: dispatch messages/s with 1 and 2 workers at 0 and 100 ms sandbox latency,
next to a bare keep-alive `requests` loop against the same sandbox in the same run.

Webhooks are held back for 10 minutes, so both sides measure the send path alone.
"""

from campaigns.launch import start_launch

from .bare_loop import bare_rate
from .stack import Stack, cancel, load_average, make_campaign, rate_of, wait_for_count

LATENCIES_MS = (0, 100)
WORKER_COUNTS = (1, 2)


def run(recipients: int, bare_seconds: float, timeout: float) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for workers in WORKER_COUNTS:
        with Stack(workers=workers, web=False) as stack:
            for latency_ms in LATENCIES_MS:
                stack.configure(
                    latency_ms=latency_ms, webhook_delay_ms=600_000, unreachable_percent=0
                )
                stack.sandbox("DELETE", "/_sandbox/messages")
                bare = bare_rate(bare_seconds)
                stack.sandbox("DELETE", "/_sandbox/messages")

                campaign = make_campaign(f"dispatch {workers}w {latency_ms}ms", recipients)
                start_launch(campaign)
                sent = wait_for_count(stack, "whatsapp", recipients, timeout)
                cancel(campaign)
                dispatch = rate_of(sent)
                rows.append(
                    (
                        f"{workers}",
                        f"{latency_ms} ms",
                        f"{len(sent)}",
                        f"{dispatch:.0f}",
                        f"{bare:.0f}",
                        f"{dispatch / bare:.2f}",
                        load_average(),
                    )
                )
                print("a.", rows[-1], flush=True)
    return rows


HEADER = (
    "Workers",
    "Latency",
    "Messages",
    "Dispatch msg/s",
    "Bare loop req/s",
    "Ratio",
    "Load avg",
)
