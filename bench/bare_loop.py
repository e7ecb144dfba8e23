"""Baseline for dispatch throughput: a single-threaded keep-alive `requests` loop that
posts WhatsApp template sends to the sandbox, at 0 and 100 ms of sandbox latency.

Usage: .venv/bin/python -m bench.bare_loop [--seconds 10]
"""

import argparse
import time

import requests

from messaging.sandbox.testing import SandboxProcess

PAYLOAD = {
    "messaging_product": "whatsapp",
    "to": "+447400123456",
    "type": "template",
    "template": {"name": "bench_plain", "language": {"code": "en_US"}},
}


def measure(sandbox: SandboxProcess, latency_ms: int, seconds: float) -> float:
    """Return the sends per second the loop achieved."""
    sandbox.configure(latency_ms=latency_ms, webhook_delay_ms=60_000)
    session = requests.Session()
    url = f"{sandbox.url}/v21.0/100000001/messages"
    headers = {"Authorization": "Bearer bench"}
    count = 0
    deadline = time.monotonic() + seconds
    started = time.monotonic()
    while time.monotonic() < deadline:
        response = session.post(url, json=PAYLOAD, headers=headers, timeout=10)
        response.raise_for_status()
        count += 1
    return count / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="Duration of each run, in seconds."
    )
    args = parser.parse_args()
    # Webhooks go nowhere: the baseline measures the send path only.
    with SandboxProcess(meta_webhook_url="http://127.0.0.1:9/") as sandbox:
        sandbox.add_template("bench_plain", "Hello from the benchmark.")
        for latency_ms in (0, 100):
            rate = measure(sandbox, latency_ms, args.seconds)
            print(f"bare keep-alive loop, latency {latency_ms} ms: {rate:.0f} requests/s")


if __name__ == "__main__":
    main()
