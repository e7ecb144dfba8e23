"""Retry delays: exponential with full jitter and a cap, so retries of a throttled sender
spread out instead of arriving together."""

import random

from django.conf import settings

# Meta's pair rate limit (131056) requires 4^n seconds between tries to the same person.
PAIR_RATE_CODE = "131056"


def retry_delay(code: str, tries: int) -> float:
    """Return the seconds to wait before try number tries + 1."""
    cap = settings.RETRY_CAP_SECONDS
    if code == PAIR_RATE_CODE:
        return min(cap, settings.RETRY_PAIR_RATE_BASE_SECONDS * 4.0 ** max(tries - 1, 0))
    ceiling = min(cap, settings.RETRY_BASE_SECONDS * 2 ** max(tries - 1, 0))
    return random.uniform(ceiling / 2, ceiling)
