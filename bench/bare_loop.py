"""Baseline for dispatch throughput: a single-threaded keep-alive `requests` loop that
posts the benchmark's WhatsApp template send to the sandbox for a fixed time."""

import time

import requests

from .stack import SANDBOX_URL, TEMPLATE_NAME

PAYLOAD = {
    "messaging_product": "whatsapp",
    "to": "+447400123456",
    "type": "template",
    "template": {
        "name": TEMPLATE_NAME,
        "language": {"code": "en_US"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}],
    },
}


def bare_rate(seconds: float) -> float:
    """Return the requests/s of one keep-alive session posting sends for `seconds`."""
    session = requests.Session()
    url = f"{SANDBOX_URL}/v21.0/100000001/messages"
    headers = {"Authorization": "Bearer bench"}
    count = 0
    started = time.monotonic()
    deadline = started + seconds
    while time.monotonic() < deadline:
        response = session.post(url, json=PAYLOAD, headers=headers, timeout=10)
        response.raise_for_status()
        count += 1
    return count / (time.monotonic() - started)
