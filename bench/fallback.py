"""Benchmark d: fallback latency, from the failed WhatsApp webhook to the SMS request at
the sandbox.

Every WhatsApp send fails with 131026 by webhook `webhook_delay_ms` after the send, so
each recipient gets the SMS text. The latency of one recipient is its SMS time in the
sandbox log minus its WhatsApp send time plus that delay (when the sandbox scheduled the
failed status).
"""

from datetime import datetime, timedelta

from campaigns.launch import start_launch

from .stack import Stack, cancel, load_average, make_campaign, percentile, wait_for_count

SEND_RATE = 80
# Fallbacks arrive at the WhatsApp send rate. An SMS sender limited to that same rate
# would queue them, and the figure would measure that queue instead of the fallback path.
SMS_RATE = 1000
DELAY_MS = 200


def run(recipients: int) -> list[tuple[str, ...]]:
    with Stack(workers=2) as stack:
        stack.configure(unreachable_percent=100, webhook_delay_ms=DELAY_MS, whatsapp_mps=SEND_RATE)
        campaign = make_campaign("fallback", recipients, rate=SEND_RATE, sms_rate=SMS_RATE)
        start_launch(campaign)
        sms = wait_for_count(stack, "sms", recipients, timeout=recipients / SEND_RATE * 3 + 30)
        whatsapp = stack.messages("whatsapp")
        cancel(campaign)
    failed_at = {m["to"]: _time(m) + timedelta(milliseconds=DELAY_MS) for m in whatsapp}
    latencies = [
        (_time(m) - failed_at[m["to"]]).total_seconds() for m in sms if m["to"] in failed_at
    ]
    row = (
        f"{SEND_RATE}",
        f"{SMS_RATE}",
        f"{len(latencies)} of {recipients}",
        f"{percentile(latencies, 0.5) * 1000:.0f} ms",
        f"{percentile(latencies, 0.95) * 1000:.0f} ms",
        f"{max(latencies) * 1000:.0f} ms" if latencies else "-",
        load_average(),
    )
    print("d.", row, flush=True)
    return [row]


def _time(message: dict) -> datetime:
    return datetime.fromisoformat(message["time"].replace("Z", "+00:00"))


HEADER = ("Send msg/s", "SMS sender msg/s", "Fallbacks seen", "p50", "p95", "max", "Load avg")
