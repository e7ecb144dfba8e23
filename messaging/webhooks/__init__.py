"""Inbound provider webhooks: verify the signature, store the raw event, respond at once,
and leave the processing to an RQ job."""

import logging
import threading
import time

from django.http import HttpResponseForbidden

# A misconfigured secret rejects every webhook. One line per REJECTION_LOG_SECONDS, with
# the count since the last one, reports it without flooding the log.
REJECTION_LOG_SECONDS = 10.0
_lock = threading.Lock()
_suppressed: dict[str, int] = {}
_last_logged: dict[str, float] = {}


def log_rejection(logger: logging.Logger, key: str, message: str, *args: object) -> None:
    now = time.monotonic()
    with _lock:
        if now - _last_logged.get(key, 0.0) < REJECTION_LOG_SECONDS:
            _suppressed[key] = _suppressed.get(key, 0) + 1
            return
        _last_logged[key] = now
        suppressed = _suppressed.pop(key, 0)
    if suppressed:
        message += " (%s more rejected since the last report)"
        args = (*args, suppressed)
    logger.warning(message, *args)


def rejected(message: str) -> HttpResponseForbidden:
    """Return a 403 response with `message` as plain text.

    Some messages quote request values, which an HTML body would let a caller inject."""
    return HttpResponseForbidden(message, content_type="text/plain; charset=utf-8")
