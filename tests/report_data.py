"""Recipients in every final state and route, with their attempts set directly."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone

from campaigns.models import Campaign, Recipient, RecipientStatus, Route
from messaging.models import AttemptStatus, Channel, DeliveryAttempt
from reports.models import SmsRate, WhatsAppRate
from tests.factories import ContactFactory, RecipientFactory

S = RecipientStatus
A = AttemptStatus

WHATSAPP_GB = Decimal("0.05")
SMS_GB = Decimal("0.04")
SMS_US = Decimal("0.01")


def add_rates(campaign: Any) -> None:
    agency = campaign.sub_account.agency
    agency.markup = Decimal("0.25")
    agency.save()
    WhatsAppRate.objects.create(
        agency=agency, category="MARKETING", calling_code="44", price=WHATSAPP_GB
    )
    SmsRate.objects.create(agency=agency, country="GB", price=SMS_GB)
    SmsRate.objects.create(agency=agency, country="US", price=SMS_US)


def recipient(
    campaign: Campaign,
    status: str,
    route: str = Route.WHATSAPP,
    whatsapp: tuple[str, str] | None = None,
    sms: tuple[str, str, int | None] | None = None,
    country: str = "GB",
    **fields: Any,
) -> Recipient:
    phone = f"+1415555{Recipient.objects.count():04d}" if country == "US" else None
    contact_fields = {"sub_account": campaign.sub_account, "country": country}
    if phone:
        contact_fields["phone"] = phone
    contact = ContactFactory(**contact_fields)
    finished = timezone.now() if status in {s.value for s in S} - _open() else None
    made: Any = RecipientFactory(
        campaign=campaign,
        contact=contact,
        status=status,
        route=route,
        finished_at=finished,
        **fields,
    )
    if whatsapp:
        _attempt(made, Channel.WHATSAPP, whatsapp[0], whatsapp[1], None)
    if sms:
        _attempt(made, Channel.SMS, *sms)
    return made


def _open() -> set[str]:
    return {
        S.PENDING,
        S.WHATSAPP_SENDING,
        S.WHATSAPP_SENT,
        S.SMS_PENDING,
        S.SMS_SENDING,
        S.SMS_SENT,
    }


def _attempt(made: Recipient, channel: str, status: str, code: str, segments: int | None) -> None:
    DeliveryAttempt.objects.create(
        recipient=made, channel=channel, status=status, error_code=code, segments=segments
    )


def every_outcome(campaign: Any) -> dict[str, Recipient]:
    """Eleven recipients; the expected figures are worked out in test_report_figures."""
    return {
        "whatsapp_delivered": recipient(campaign, S.DELIVERED_WHATSAPP, whatsapp=(A.DELIVERED, "")),
        "whatsapp_read": recipient(campaign, S.DELIVERED_WHATSAPP, whatsapp=(A.READ, "")),
        "recovered": recipient(
            campaign,
            S.DELIVERED_SMS,
            whatsapp=(A.FAILED, "131026"),
            sms=(A.DELIVERED, "", 2),
            reason="131026",
            fallback_triggered=True,
        ),
        "direct_sms": recipient(
            campaign,
            S.DELIVERED_SMS,
            route=Route.DIRECT_SMS,
            sms=(A.DELIVERED, "", 1),
            reason="us_marketing",
            country="US",
        ),
        "failed_whatsapp": recipient(
            campaign, S.FAILED_WHATSAPP, whatsapp=(A.FAILED, "131051"), reason="131051"
        ),
        "failed_both": recipient(
            campaign,
            S.FAILED_BOTH,
            whatsapp=(A.FAILED, "131026"),
            sms=(A.FAILED, "30006", 1),
            reason="131026/30006",
            fallback_triggered=True,
        ),
        "invalid": recipient(campaign, S.SKIPPED, route=Route.NONE, reason="invalid_number"),
        "no_consent": recipient(campaign, S.SKIPPED, route=Route.NONE, reason="no_consent"),
        "cancelled": recipient(campaign, S.CANCELLED, reason="campaign_cancelled"),
        "delivered_both": recipient(
            campaign,
            S.DELIVERED_SMS,
            whatsapp=(A.DELIVERED, "131026"),
            sms=(A.DELIVERED, "", 1),
            reason="131026",
            fallback_triggered=True,
            delivered_both=True,
        ),
        "in_flight": recipient(campaign, S.WHATSAPP_SENT, whatsapp=(A.SENT, "")),
    }
