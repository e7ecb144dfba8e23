"""SMS segment counting, as Twilio reports it in `num_segments`."""

from __future__ import annotations

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)

GSM_SINGLE, GSM_CONCATENATED = 160, 153
UCS2_SINGLE, UCS2_CONCATENATED = 70, 67


def _gsm_septets(text: str) -> int | None:
    try:
        return len(text.encode("gsm03.38"))
    except UnicodeEncodeError:
        return None


def _pack(sizes: list[int], single: int, concatenated: int) -> int:
    """Count segments, never splitting a character's units across two of them."""
    if sum(sizes) <= single:
        return 1
    segments, used = 1, 0
    for size in sizes:
        if used + size > concatenated:
            segments += 1
            used = 0
        used += size
    return segments


def count_segments(body: str) -> int:
    # Most bodies are short GSM text: one encode of the whole body settles them.
    total = _gsm_septets(body)
    if total is not None and total <= GSM_SINGLE:
        return 1

    septets = [_gsm_septets(char) for char in body]
    if all(size is not None for size in septets):
        # Extension characters such as "{" or "€" take two septets (an escape pair).
        return _pack([size for size in septets if size is not None], GSM_SINGLE, GSM_CONCATENATED)

    # One non-GSM character switches the whole message to UCS-2, where characters
    # outside the Basic Multilingual Plane take a surrogate pair of two code units.
    units = [2 if ord(char) > 0xFFFF else 1 for char in body]
    return _pack(units, UCS2_SINGLE, UCS2_CONCATENATED)
