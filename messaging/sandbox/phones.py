"""Phone number helpers shared by both providers: normalizing, cached parsing, hashing."""

from __future__ import annotations

import functools
import zlib
from typing import NamedTuple

import phonenumbers
from phonenumbers import PhoneNumberType


class PhoneInfo(NamedTuple):
    possible: bool
    region: str | None
    number_type: int


def normalize_number(raw: str) -> str | None:
    """Return `raw` as "+<digits>", or None unless it has 7 to 15 digits.

    Spaces, dashes, dots and brackets are dropped, as the WhatsApp Cloud API does.
    """
    digits = "".join(ch for ch in raw if ch.isdigit())
    stripped = raw.strip().lstrip("+")
    if any(not (ch.isdigit() or ch in " -.()") for ch in stripped):
        return None
    if not 7 <= len(digits) <= 15:
        return None
    return "+" + digits


# Campaign sends repeat numbers across channels and retries, and parsing a number
# costs tens of microseconds, so a cache keeps the request path cheap.
@functools.lru_cache(maxsize=65536)
def phone_info(e164: str) -> PhoneInfo:
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return PhoneInfo(False, None, PhoneNumberType.UNKNOWN)
    return PhoneInfo(
        phonenumbers.is_possible_number(parsed),
        phonenumbers.region_code_for_number(parsed),
        phonenumbers.number_type(parsed),
    )


def is_us_number(e164: str) -> bool:
    """Tell whether the number is in the US, not merely in the +1 plan (Canada, Caribbean)."""
    return phone_info(e164).region == "US"


def is_landline(e164: str) -> bool:
    # US and Canadian numbers are FIXED_LINE_OR_MOBILE, so only countries with
    # separate ranges (GB, DE, FR, ...) yield landlines here.
    return phone_info(e164).number_type == PhoneNumberType.FIXED_LINE


def in_share(e164: str, percent: float, salt: str) -> bool:
    """Pick a stable `percent` share of numbers by a hash, so outcomes repeat across runs."""
    if percent <= 0:
        return False
    bucket = zlib.crc32(f"{salt}:{e164}".encode()) % 10000
    return bucket < percent * 100
