"""Retry delays: exponential with full jitter and a cap, so retries of a throttled sender
spread out instead of arriving together."""

import random

BASE_SECONDS = 2.0
CAP_SECONDS = 300.0
# Meta's pair rate limit (131056) asks for 4^n seconds between tries to the same person.
PAIR_RATE_CODE = "131056"


def retry_delay(code: str, tries: int) -> float:
    if code == PAIR_RATE_CODE:
        return min(CAP_SECONDS, 4.0**tries)
    ceiling = min(CAP_SECONDS, BASE_SECONDS * 2 ** max(tries - 1, 0))
    return random.uniform(ceiling / 2, ceiling)
