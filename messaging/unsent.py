"""Markers in Redis that tell, after a crash, whether a "sending" attempt's request was
ever made.

Dispatch marks a chunk's attempts "sending" in the database a moment before their
requests. A worker killed in between leaves attempts that look sent but never were. So
dispatch also stores one marker per attempt, and the sending thread takes it (GETDEL) just
before the HTTP request. The sweeper releases a stale "sending" attempt only if it can
flip the marker from pending to released (SET ... XX GET): then the request was never
made, and the thread that wakes up late finds "released" and does not send. A marker that
is gone means the request may have been made, and the attempt is left to its webhooks or
marked unknown. A Redis flush drops the markers, which errs on that same safe side.
"""

import logging
from collections.abc import Iterable

from .queue import redis

logger = logging.getLogger(__name__)

KEY_PREFIX = "switchback:unsent:"
PENDING = b"pending"
RELEASED = b"released"
# Longer than any chunk waits for its slots; the sweeper looks much earlier.
MARKER_SECONDS = 24 * 3600


def mark(attempt_ids: Iterable[int]) -> None:
    pipe = redis().pipeline(transaction=False)
    for attempt_id in attempt_ids:
        pipe.set(_key(attempt_id), PENDING, ex=MARKER_SECONDS)
    pipe.execute()


def take(attempt_id: int) -> bool:
    """Take the attempt's marker right before its request; returns False when the sweeper
    released the attempt and the request must not be made."""
    return redis().getdel(_key(attempt_id)) != RELEASED


def release(attempt_ids: Iterable[int]) -> list[int]:
    """Flip pending markers to released; returns the attempts whose request was never made."""
    ids = list(attempt_ids)
    pipe = redis().pipeline(transaction=False)
    for attempt_id in ids:
        pipe.set(_key(attempt_id), RELEASED, xx=True, get=True, ex=MARKER_SECONDS)
    return [
        attempt_id for attempt_id, old in zip(ids, pipe.execute(), strict=True) if old == PENDING
    ]


def _key(attempt_id: int) -> str:
    return f"{KEY_PREFIX}{attempt_id}"
