"""Import an agency's rate card from CSV.

Columns: channel (whatsapp or sms), category (WhatsApp only: MARKETING, UTILITY or
AUTHENTICATION), country and price. For WhatsApp the country is a calling code ("44",
"+44") or a two-letter country code, stored as the calling code; for SMS it is a
two-letter country code. A row for a rate that exists updates its price.

Rows that cannot be used are listed with the reason and nothing else in the file is
lost; a file without the needed columns raises `RateFileError` and stores nothing.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import phonenumbers
from django.db import transaction

from campaigns.models import Agency, TemplateCategory

from .models import SmsRate, WhatsAppRate

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("channel", "country", "price")


class RateFileError(ValueError):
    pass


@dataclass(frozen=True)
class RejectedRow:
    line: int
    reason: str


@dataclass
class RateImportResult:
    created: int = 0
    updated: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)


def import_rates(agency: Agency, text: str) -> RateImportResult:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    columns = {(name or "").strip().lower() for name in reader.fieldnames or []}
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise RateFileError(
            f"The rate file has no {', '.join(missing)} column; the header row needs"
            " channel, category, country and price."
        )

    result = RateImportResult()
    with transaction.atomic():
        for line, raw in enumerate(reader, start=2):
            row = {(key or "").strip().lower(): (value or "").strip() for key, value in raw.items()}
            try:
                created = _store(agency, row)
            except ValueError as error:
                result.rejected.append(RejectedRow(line, str(error)))
                continue
            if created:
                result.created += 1
            else:
                result.updated += 1
    logger.info(
        "agency %s: rate import created %s, updated %s, rejected %s",
        agency.pk,
        result.created,
        result.updated,
        len(result.rejected),
    )
    return result


def _store(agency: Agency, row: dict[str, str]) -> bool:
    channel = row.get("channel", "").lower()
    price = _price(row.get("price", ""))
    if channel == "whatsapp":
        category = _category(row.get("category", ""))
        _, created = WhatsAppRate.objects.update_or_create(
            agency=agency,
            category=category,
            calling_code=calling_code(row.get("country", "")),
            defaults={"price": price},
        )
        return created
    if channel == "sms":
        _, created = SmsRate.objects.update_or_create(
            agency=agency, country=_country(row.get("country", "")), defaults={"price": price}
        )
        return created
    raise ValueError(f"channel {channel!r} is not whatsapp or sms")


def calling_code(value: str) -> str:
    """Return the calling code for "44", "+44" or "GB", or raise ValueError."""
    text = value.strip().lstrip("+")
    if text.isdigit() and phonenumbers.region_code_for_country_code(int(text)) != "ZZ":
        return str(int(text))
    if len(text) == 2 and text.isalpha():
        code = phonenumbers.country_code_for_region(text.upper())
        if code:
            return str(code)
    raise ValueError(f"country {value!r} is not a calling code (e.g. 44) or country (e.g. GB)")


def _country(value: str) -> str:
    text = value.strip().upper()
    if len(text) != 2 or not phonenumbers.country_code_for_region(text):
        raise ValueError(f"country {value!r} is not a two-letter country code, e.g. GB")
    return text


def _category(value: str) -> str:
    text = value.strip().upper()
    if text not in TemplateCategory.values:
        allowed = ", ".join(TemplateCategory.values)
        raise ValueError(f"category {value!r} is not one of {allowed}")
    return text


def _price(value: str) -> Decimal:
    try:
        price = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"price {value!r} is not a number; write it like 0.0125") from None
    if not price.is_finite() or price < 0:
        raise ValueError(f"price {value!r} must be zero or more")
    if price.as_tuple().exponent < -5:  # type: ignore[operator]
        raise ValueError(f"price {value!r} has more than 5 decimal places")
    return price
