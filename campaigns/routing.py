"""Route each recipient of a campaign: skip, SMS straight away, or WhatsApp first."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property, lru_cache
from typing import Protocol

import phonenumbers
from django.utils import timezone

from . import reasons
from .models import Campaign, LineType, RecipientStatus, Route, TemplateCategory

# How long a 131026 ("not on WhatsApp") keeps a contact off WhatsApp.
WHATSAPP_UNREACHABLE_FOR = timedelta(days=30)


class RoutedContact(Protocol):
    """The contact fields routing reads: a Contact, or a row the launch reads with only
    these columns."""

    @property
    def phone(self) -> str: ...
    @property
    def country(self) -> str: ...
    @property
    def line_type(self) -> str: ...
    @property
    def sms_opt_out_at(self) -> datetime | None: ...
    @property
    def whatsapp_opt_out_at(self) -> datetime | None: ...
    @property
    def whatsapp_unreachable_at(self) -> datetime | None: ...


@dataclass(frozen=True)
class Routing:
    route: str
    status: str
    reason: str = ""


@dataclass(frozen=True)
class ParsedPhone:
    """A valid phone number with the phonenumbers results that routing reads."""

    number: phonenumbers.PhoneNumber
    e164: str
    # phonenumbers.PhoneNumberType; never UNKNOWN, because a number of unknown type is invalid.
    number_type: int

    @cached_property
    def region(self) -> str | None:
        # Looked up on first use only, because the region of a number whose calling code
        # several regions share (+44, +1) is found by matching the number against each
        # region's patterns in turn.
        return phonenumbers.region_code_for_number(self.number)


# Launch needs the same number several times (audience, duplicate check, route, SMS
# check). Callers only read the returned object.
@lru_cache(maxsize=65536)
def parse(phone: str) -> ParsedPhone | None:
    """Parse an international number, or return None when it does not parse or is invalid."""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return None
    # number_type returns UNKNOWN exactly when is_valid_number returns False (in
    # phonenumbers 9.0 both look up the region and match the same patterns), so one call
    # serves as the validity check and the line type.
    number_type = phonenumbers.number_type(number)
    if number_type == phonenumbers.PhoneNumberType.UNKNOWN:
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return ParsedPhone(number, e164, number_type)


def e164(phone: str) -> str:
    """Return the number in E.164 form, or the input unchanged when it does not parse."""
    parsed = parse(phone)
    return parsed.e164 if parsed else phone


def is_us(phone: ParsedPhone) -> bool:
    # Canada and the Caribbean share +1 but are not affected by Meta's US marketing pause.
    # Other calling codes need no region lookup.
    return phone.number.country_code == 1 and phone.region == "US"


def sms_blocker(contact: RoutedContact, campaign: Campaign) -> str:
    """Return why an SMS cannot or may not reach the contact, or "" when it can."""
    parsed = parse(contact.phone)
    if not campaign.fallback_text.strip():
        return reasons.NO_SMS_TEXT
    if contact.sms_opt_out_at:
        return reasons.SMS_OPT_OUT
    landline = parsed is not None and parsed.number_type == phonenumbers.PhoneNumberType.FIXED_LINE
    if contact.line_type == LineType.LANDLINE or landline:
        return reasons.LANDLINE
    sub_account = campaign.sub_account
    # An empty country list allows every country, so the region lookup is skipped then.
    if sub_account.sms_countries:
        country = parsed.region if parsed else contact.country
        if not sub_account.allows_sms_to(country or ""):
            return reasons.SMS_COUNTRY_NOT_ENABLED
    if not sub_account.sms_configured:
        return reasons.SMS_NOT_CONFIGURED
    return ""


def route(contact: RoutedContact, campaign: Campaign, now: datetime | None = None) -> Routing:
    """Route one contact. A launch passes `now` so that all its contacts use one clock reading."""
    parsed = parse(contact.phone)
    if parsed is None:
        return Routing(Route.NONE, RecipientStatus.SKIPPED, reasons.INVALID_NUMBER)

    sms_ok = campaign.fallback_enabled and not sms_blocker(contact, campaign)
    marketing = campaign.template.category == TemplateCategory.MARKETING
    recently_unreachable = contact.whatsapp_unreachable_at is not None and (
        (now or timezone.now()) - contact.whatsapp_unreachable_at < WHATSAPP_UNREACHABLE_FOR
    )
    whatsapp_opted_out = contact.whatsapp_opt_out_at is not None

    if whatsapp_opted_out and not sms_ok:
        return Routing(Route.NONE, RecipientStatus.SKIPPED, reasons.NO_CONSENT)
    if sms_ok and whatsapp_opted_out:
        return Routing(Route.DIRECT_SMS, RecipientStatus.SMS_PENDING, reasons.WHATSAPP_OPT_OUT)
    if sms_ok and recently_unreachable:
        return Routing(Route.DIRECT_SMS, RecipientStatus.SMS_PENDING, reasons.WHATSAPP_UNREACHABLE)
    if sms_ok and marketing and campaign.direct_sms_for_us_marketing and is_us(parsed):
        return Routing(Route.DIRECT_SMS, RecipientStatus.SMS_PENDING, reasons.US_MARKETING)
    return Routing(Route.WHATSAPP, RecipientStatus.PENDING)
