"""Route each recipient of a campaign: skip, SMS straight away, or WhatsApp first."""

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

import phonenumbers
from django.utils import timezone

from . import reasons
from .models import Campaign, Contact, LineType, RecipientStatus, Route, TemplateCategory

# How long a 131026 ("not on WhatsApp") keeps a contact off WhatsApp.
WHATSAPP_UNREACHABLE_FOR = timedelta(days=30)


@dataclass(frozen=True)
class Routing:
    route: str
    status: str
    reason: str = ""


# Launch needs the same number several times (route, SMS check, duplicate check). Callers
# only read the returned object.
@lru_cache(maxsize=65536)
def parse(phone: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def e164(phone: str) -> str:
    """Return the number in E.164 form, or the input unchanged when it does not parse."""
    number = parse(phone)
    return (
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) if number else phone
    )


def is_us(number: phonenumbers.PhoneNumber) -> bool:
    # Canada and the Caribbean share +1 but are not affected by Meta's US marketing pause.
    return phonenumbers.region_code_for_number(number) == "US"


def sms_blocker(contact: Contact, campaign: Campaign) -> str:
    """Return why an SMS cannot or may not reach the contact, or "" when it can."""
    number = parse(contact.phone)
    if not campaign.fallback_text.strip():
        return reasons.NO_SMS_TEXT
    if contact.sms_opt_out_at:
        return reasons.SMS_OPT_OUT
    landline = number is not None and (
        phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.FIXED_LINE
    )
    if contact.line_type == LineType.LANDLINE or landline:
        return reasons.LANDLINE
    country = phonenumbers.region_code_for_number(number) if number else contact.country
    if not campaign.sub_account.allows_sms_to(country or ""):
        return reasons.SMS_COUNTRY_NOT_ENABLED
    if not campaign.sub_account.sms_configured:
        return reasons.SMS_NOT_CONFIGURED
    return ""


def route(contact: Contact, campaign: Campaign) -> Routing:
    number = parse(contact.phone)
    if number is None:
        return Routing(Route.NONE, RecipientStatus.SKIPPED, reasons.INVALID_NUMBER)

    sms_ok = campaign.fallback_enabled and not sms_blocker(contact, campaign)
    marketing = campaign.template.category == TemplateCategory.MARKETING
    recently_unreachable = contact.whatsapp_unreachable_at is not None and (
        timezone.now() - contact.whatsapp_unreachable_at < WHATSAPP_UNREACHABLE_FOR
    )
    whatsapp_opted_out = contact.whatsapp_opt_out_at is not None

    if whatsapp_opted_out and not sms_ok:
        return Routing(Route.NONE, RecipientStatus.SKIPPED, reasons.NO_CONSENT)
    if sms_ok and whatsapp_opted_out:
        return Routing(Route.DIRECT_SMS, RecipientStatus.SMS_PENDING, reasons.WHATSAPP_OPT_OUT)
    if sms_ok and recently_unreachable:
        return Routing(Route.DIRECT_SMS, RecipientStatus.SMS_PENDING, reasons.WHATSAPP_UNREACHABLE)
    if sms_ok and marketing and campaign.direct_sms_for_us_marketing and is_us(number):
        return Routing(Route.DIRECT_SMS, RecipientStatus.SMS_PENDING, reasons.US_MARKETING)
    return Routing(Route.WHATSAPP, RecipientStatus.PENDING)
