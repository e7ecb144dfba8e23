"""Search by phone number in any common format, against numbers stored in E.164."""

import re

import phonenumbers
from django.db.models import Q

PHONE_LIKE = re.compile(r"^[\d\s()+.\-/]+$")
NOT_DIGITS = re.compile(r"[^\d+]")
# Shorter digit strings are more likely ids or parts of a name than phone numbers.
MIN_DIGITS = 6


def phone_filter(term: str, field: str = "phone") -> Q | None:
    """Return a filter matching term against an E.164 field, or None if term is no number.

    "+44 7700 900123", "0044 7700-900123" and "447700900123" all become +447700900123. A
    national number with a trunk 0 ("07700 900123") names no country, so it matches every
    stored number that ends in its national digits.
    """
    term = term.strip()
    if not PHONE_LIKE.match(term):
        return None
    compact = NOT_DIGITS.sub("", term)
    if len(compact.lstrip("+")) < MIN_DIGITS:
        return None

    if compact.startswith("00"):
        compact = "+" + compact[2:]
    elif compact.startswith("0"):
        return Q(**{f"{field}__endswith": compact.lstrip("0")})
    elif not compact.startswith("+"):
        compact = "+" + compact

    try:
        number = phonenumbers.parse(compact, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return Q(**{field: phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)})
