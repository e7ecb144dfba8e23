"""Delayed, signed webhook delivery to the app, off the request path.

A scheduler thread keeps a heap of deliveries by due time and hands due ones to
a fixed pool of worker threads, each with its own pooled requests.Session. The
hand-off queue is short, so when the workers fall behind, due WhatsApp statuses
wait in the heap and leave it merged into fewer POSTs. A non-2xx response or
a connection error is retried with backoff.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import heapq
import hmac
import itertools
import json
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests

from .urls import redact_url

logger = logging.getLogger(__name__)

REQUEST_TIMEOUT_SECONDS = 5.0
RETRY_DELAYS_SECONDS = (1.0, 2.0, 4.0)


def meta_signature(secret: str, body: bytes) -> str:
    """Return the X-Hub-Signature-256 value: HMAC-SHA256 of the raw body with the app secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def twilio_signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """Return the X-Twilio-Signature value for a form POST of `params` to `url`."""
    data = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@dataclass
class MetaStatuses:
    """Status objects of one phone number, mergeable with others due at the same time."""

    phone_number_id: str
    display_phone_number: str
    waba_id: str
    statuses: list[dict[str, Any]]

    def envelope(self) -> dict[str, Any]:
        value = {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": self.display_phone_number,
                "phone_number_id": self.phone_number_id,
            },
            "statuses": self.statuses,
        }
        return meta_envelope(self.waba_id, "messages", value)


def meta_envelope(waba_id: str, field_name: str, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "changes": [{"field": field_name, "value": value}]}],
    }


@dataclass
class Delivery:
    """One webhook POST: a Meta JSON body or Twilio form parameters."""

    url: str
    # Message or template id, for logs.
    label: str
    meta_statuses: MetaStatuses | None = None
    meta_payload: dict[str, Any] | None = None
    twilio_params: dict[str, str] | None = None
    # The Twilio auth token that signs the callback, kept out of repr so it is never logged.
    auth_token: str = field(default="", repr=False)
    attempt: int = 0


class WebhookDispatcher:
    def __init__(self, meta_app_secret: str, workers: int = 8) -> None:
        self._secret = meta_app_secret
        self._heap: list[tuple[float, int, Delivery]] = []
        self._sequence = itertools.count()
        self._condition = threading.Condition()
        self._stopping = False
        self._batch_size = 50
        self._ready: queue.Queue[Delivery | None] = queue.Queue(maxsize=workers)
        self._workers = [
            threading.Thread(target=self._run_worker, name=f"webhook-{index}", daemon=True)
            for index in range(workers)
        ]
        self._local = threading.local()
        self._scheduler = threading.Thread(
            target=self._run_scheduler, name="webhook-scheduler", daemon=True
        )
        self._failures = _RateLimitedLog(max_lines=20, per_seconds=10.0)

    def start(self) -> None:
        self._scheduler.start()
        for worker in self._workers:
            worker.start()

    def stop(self) -> None:
        with self._condition:
            self._stopping = True
            self._condition.notify()
        self._scheduler.join(timeout=2.0)
        for _ in self._workers:
            try:
                self._ready.put_nowait(None)
            except queue.Full:
                break

    def set_batch_size(self, size: int) -> None:
        self._batch_size = size

    def schedule(self, delivery: Delivery, delay_seconds: float) -> None:
        due = time.monotonic() + delay_seconds
        with self._condition:
            heapq.heappush(self._heap, (due, next(self._sequence), delivery))
            # Wake the scheduler only when this delivery is now the earliest one.
            if self._heap[0][2] is delivery:
                self._condition.notify()

    def clear(self) -> int:
        """Drop every delivery not yet handed to a worker and return how many."""
        with self._condition:
            dropped = len(self._heap)
            self._heap.clear()
        return dropped

    def pending(self) -> int:
        """Count deliveries waiting in the heap or the hand-off queue (not those in flight)."""
        with self._condition:
            return len(self._heap) + self._ready.qsize()

    def _run_scheduler(self) -> None:
        while True:
            with self._condition:
                due = self._wait_for_due()
                if due is None:
                    return
            for delivery in self._merge(due):
                # Blocks while every worker is busy, which lets the heap fill and merge.
                self._ready.put(delivery)

    def _run_worker(self) -> None:
        while True:
            delivery = self._ready.get()
            if delivery is None:
                return
            try:
                self._deliver(delivery)
            except Exception:
                # A worker must survive a bug in one delivery, or webhooks stop for good.
                logger.exception("Webhook delivery for %s crashed", delivery.label)

    def _wait_for_due(self) -> list[Delivery] | None:
        while not self._stopping:
            now = time.monotonic()
            if self._heap and self._heap[0][0] <= now:
                due = []
                while self._heap and self._heap[0][0] <= now:
                    due.append(heapq.heappop(self._heap)[2])
                return due
            timeout = self._heap[0][0] - now if self._heap else None
            self._condition.wait(timeout)
        return None

    def _merge(self, due: list[Delivery]) -> list[Delivery]:
        """Merge due WhatsApp statuses of the same phone number into shared POSTs."""
        merged: list[Delivery] = []
        open_batches: dict[tuple[str, str], MetaStatuses] = {}
        for delivery in due:
            statuses = delivery.meta_statuses
            if statuses is None or delivery.attempt > 0:
                merged.append(delivery)
                continue
            key = (delivery.url, statuses.phone_number_id)
            batch = open_batches.get(key)
            if batch is None or len(batch.statuses) >= self._batch_size:
                # Copy the list: a duplicate delivery may share this MetaStatuses.
                batch = dataclasses.replace(statuses, statuses=list(statuses.statuses))
                open_batches[key] = batch
                merged.append(Delivery(url=delivery.url, label=delivery.label, meta_statuses=batch))
            else:
                batch.statuses.extend(statuses.statuses)
        return merged

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            self._local.session = session
        return session

    def _encode(self, delivery: Delivery) -> tuple[bytes, dict[str, str]]:
        if delivery.twilio_params is not None:
            params = delivery.twilio_params
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": twilio_signature(delivery.auth_token, delivery.url, params),
            }
            return urlencode(params).encode(), headers
        if delivery.meta_statuses is not None:
            payload = delivery.meta_statuses.envelope()
        else:
            payload = delivery.meta_payload or {}
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": meta_signature(self._secret, body),
        }
        return body, headers

    def _deliver(self, delivery: Delivery) -> None:
        body, headers = self._encode(delivery)
        try:
            response = self._session().post(
                delivery.url, data=body, headers=headers, timeout=REQUEST_TIMEOUT_SECONDS
            )
        except requests.RequestException as exc:
            self._retry_or_give_up(delivery, f"{type(exc).__name__}: {exc}")
            return
        if not 200 <= response.status_code < 300:
            self._retry_or_give_up(delivery, f"HTTP {response.status_code}")

    def _retry_or_give_up(self, delivery: Delivery, reason: str) -> None:
        if delivery.attempt < len(RETRY_DELAYS_SECONDS):
            delay = RETRY_DELAYS_SECONDS[delivery.attempt]
            self._failures.warning(
                "Webhook delivery for %s to %s failed (%s); retry %d in %.0f s",
                _describe(delivery),
                redact_url(delivery.url),
                reason,
                delivery.attempt + 1,
                delay,
            )
            delivery.attempt += 1
            self.schedule(delivery, delay)
            return
        self._failures.error(
            "Webhook delivery for %s to %s failed (%s) after %d attempts; dropped",
            _describe(delivery),
            redact_url(delivery.url),
            reason,
            delivery.attempt + 1,
        )


def _describe(delivery: Delivery) -> str:
    """Name a delivery for logs by its message or template id."""
    if delivery.meta_statuses and len(delivery.meta_statuses.statuses) > 1:
        statuses = delivery.meta_statuses.statuses
        return f"{statuses[0]['id']} and {len(statuses) - 1} more statuses"
    return delivery.label


class _RateLimitedLog:
    """Log at most `max_lines` per window and report how many lines were suppressed.

    When the app is down every webhook fails, and one line per failure would flood
    the log at benchmark rates.
    """

    def __init__(self, max_lines: int, per_seconds: float) -> None:
        self._max_lines = max_lines
        self._window = per_seconds
        self._window_start = 0.0
        self._lines = 0
        self._suppressed = 0
        self._lock = threading.Lock()

    def warning(self, message: str, *args: Any) -> None:
        self._log(logging.WARNING, message, args)

    def error(self, message: str, *args: Any) -> None:
        self._log(logging.ERROR, message, args)

    def _log(self, level: int, message: str, args: tuple[Any, ...]) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._window_start >= self._window:
                if self._suppressed:
                    logger.warning("Suppressed %d webhook failure lines", self._suppressed)
                self._window_start = now
                self._lines = 0
                self._suppressed = 0
            if self._lines >= self._max_lines:
                self._suppressed += 1
                return
            self._lines += 1
        logger.log(level, message, *args)
