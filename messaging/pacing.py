"""Send-rate limits shared by every worker process through Redis.

Three limits, each a small Lua script so that reading and updating a limit is one atomic
step in Redis, whichever worker calls it:

* Sender rate (WhatsApp per phone number id, SMS per sender): GCRA, the generic cell rate
  algorithm. The key stores the theoretical arrival time (TAT) of the next free slot.
  Reserving n slots at rate r returns the start time max(TAT, now) and moves TAT forward
  by n / r seconds, so slot i of the reservation is due at start + i / r. Workers that
  reserve at the same time get consecutive, non-overlapping slots, and the sum of their
  sends never exceeds r per second. A slot reserved by a worker that then dies is lost,
  which only makes the sender slower for a moment.
* Pair rate: one WhatsApp message per sender and recipient number every 6 seconds (Meta
  error 131056 otherwise), kept as a key that expires after 6 seconds.
* Business portfolio messaging limit: unique recipient numbers messaged in a moving 24 h,
  kept as a sorted set of number -> first send time; members older than 24 h are dropped
  before every check. A number already in the set costs nothing more.
  NOTE: the window lives only in Redis, so a flush or restart empties it and the
  portfolio may exceed its limit during the following 24 h.

Times come from Redis (`TIME`), so workers with skewed clocks share one timeline.
"""

import collections
import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis import Redis

from .queue import redis

logger = logging.getLogger(__name__)

PAIR_INTERVAL_SECONDS = 6.0
PORTFOLIO_WINDOW_SECONDS = 24 * 3600
# After a provider throttles a sender, the limiter gives it no slot for this long.
THROTTLE_PAUSE_SECONDS = 1.0
KEY_PREFIX = "switchback:pacing:"
# Send times of the moving last second per sender, in this process (see enter_window).
_windows: dict[str, collections.deque[float]] = {}
_windows_lock = threading.Lock()

# KEYS[1] = TAT key; ARGV = slots, interval in seconds. Returns the start time as a string
# (Lua numbers returned to Redis are truncated to integers).
_RESERVE = """
local now = redis.call('TIME')
local now_s = tonumber(now[1]) + tonumber(now[2]) / 1000000
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(tat, now_s)
local new_tat = start + tonumber(ARGV[1]) * tonumber(ARGV[2])
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil((new_tat - now_s) * 1000) + 60000)
return {tostring(start), tostring(now_s)}
"""

# KEYS[1] = TAT key; ARGV[1] = pause in seconds. Pushes the next free slot past the pause.
_PAUSE = """
local now = redis.call('TIME')
local now_s = tonumber(now[1]) + tonumber(now[2]) / 1000000
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local new_tat = math.max(tat, now_s + tonumber(ARGV[1]))
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil((new_tat - now_s) * 1000) + 60000)
return tostring(new_tat - now_s)
"""

# KEYS[1] = sorted set; ARGV = limit, window seconds, numbers... Admits numbers in order
# while the window has room. Returns {admitted count, seconds until the oldest member leaves}.
_PORTFOLIO = """
local now = redis.call('TIME')
local now_s = tonumber(now[1]) + tonumber(now[2]) / 1000000
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_s - window)
local admitted = 0
for i = 3, #ARGV do
  if not redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    if redis.call('ZCARD', KEYS[1]) >= limit then break end
    redis.call('ZADD', KEYS[1], now_s, ARGV[i])
  end
  admitted = admitted + 1
end
redis.call('EXPIRE', KEYS[1], window)
local wait = 0
if admitted < #ARGV - 2 then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  wait = oldest[2] + window - now_s
end
return {admitted, tostring(wait)}
"""


@dataclass(frozen=True)
class Reservation:
    """Send slots on one sender: slot i is due `start_in + i * interval` seconds after
    `reserved_at` (a time.monotonic() value of this process)."""

    reserved_at: float
    start_in: float
    interval: float

    def due_at(self, index: int) -> float:
        return self.reserved_at + self.start_in + index * self.interval


def connection() -> Redis:
    return redis()


def sender_key(channel: str, sender: str) -> str:
    return f"{KEY_PREFIX}rate:{channel}:{sender}"


def reserve(key: str, slots: int, per_second: float) -> Reservation:
    """Reserve `slots` consecutive send slots on a sender limited to `per_second`."""
    if per_second <= 0:
        raise ValueError(f"invalid rate {per_second!r} for {key}: set a positive messages/s")
    interval = 1.0 / per_second
    start, now = _eval(_RESERVE, key, str(slots), repr(interval))
    return Reservation(time.monotonic(), max(0.0, float(start) - float(now)), interval)


def enter_window(key: str, per_second: float) -> float:
    """Count one send in the sender's moving second, as the provider does, right before
    it goes out. Returns 0.0, or the seconds to wait when the second is already full.

    The slots of reserve() keep sends evenly spaced. This guards against a stall of this
    process (a garbage collection, a slow query) after which the overdue sends would go
    out together. Stalls are local, so the count is too: it covers this process's sends
    only, and costs no round trip. The limit leaves one message of room for the jitter
    between this count and the provider's arrival time.
    """
    limit = max(1, math.floor(per_second) - 1)
    now = time.monotonic()
    with _windows_lock:
        sent = _windows.setdefault(key, collections.deque())
        while sent and sent[0] <= now - 1.0:
            sent.popleft()
        if len(sent) >= limit:
            return sent[0] + 1.0 - now
        sent.append(now)
        return 0.0


def slow_down(key: str, seconds: float = THROTTLE_PAUSE_SECONDS) -> float:
    """Give the sender no slot for `seconds` after a provider throttled it; returns the
    seconds until its next free slot."""
    wait = float(_eval(_PAUSE, key, repr(seconds)))
    logger.warning("sender %s throttled by the provider; next slot in %.2f s", key, wait)
    return wait


def take_pairs(sender: str, numbers: Sequence[str]) -> dict[str, float]:
    """Claim the 6-second pair slot of each (sender, number); returns the numbers whose
    slot is taken, with the seconds until it frees."""
    pipe = connection().pipeline(transaction=False)
    for number in numbers:
        pipe.set(_pair_key(sender, number), 1, nx=True, px=int(PAIR_INTERVAL_SECONDS * 1000))
    taken = [number for number, ok in zip(numbers, pipe.execute(), strict=True) if not ok]
    if not taken:
        return {}
    for number in taken:
        pipe.pttl(_pair_key(sender, number))
    return {number: max(ttl, 0) / 1000 for number, ttl in zip(taken, pipe.execute(), strict=True)}


def admit_to_portfolio(portfolio_id: int, limit: int, numbers: Sequence[str]) -> tuple[int, float]:
    """Admit numbers, in order, to the portfolio's moving 24 h window of unique recipients.

    Returns how many of the leading numbers may be messaged, and the seconds until the
    window has room again when not all were admitted.
    """
    if not numbers:
        return 0, 0.0
    key = f"{KEY_PREFIX}portfolio:{portfolio_id}"
    admitted, wait = _eval(_PORTFOLIO, key, str(limit), str(PORTFOLIO_WINDOW_SECONDS), *numbers)
    return int(admitted), float(wait)


def _eval(script: str, key: str, *args: str) -> Any:
    """Run a Lua script on one key; the synchronous client returns the script's value."""
    return connection().eval(script, 1, key, *args)


def _pair_key(sender: str, number: str) -> str:
    return f"{KEY_PREFIX}pair:{sender}:{number}"
