"""Report cells: recipients counted by every column the figures depend on.

`cells_for` returns the cells of a set of campaigns. A finished campaign's cells are
stored once and reused until one of its recipients or attempts changes again (a late
WhatsApp "delivered" after the fallback SMS, for example); a running campaign's cells are
counted live. A cell's day is the local day in the campaign's sub-account's time zone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, F, FilteredRelation, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from campaigns.models import Campaign, CampaignStatus, Recipient, SubAccount
from messaging.models import Channel, DeliveryAttempt

from .models import CampaignRollup, ReportCell

logger = logging.getLogger(__name__)

UTC = ZoneInfo("UTC")

FINISHED = [CampaignStatus.COMPLETED, CampaignStatus.CANCELLED]
COLUMNS = [
    "campaign_id",
    "day",
    "country",
    "category",
    "route",
    "status",
    "reason",
    "fallback_triggered",
    "delivered_both",
    "wa_status",
    "wa_code",
    "sms_status",
    "sms_code",
    "sms_segments",
]
Cell = dict[str, Any]


def with_attempts(recipients: QuerySet[Recipient]) -> QuerySet[Recipient]:
    """Annotate each recipient with its WhatsApp and SMS attempt (at most one each)."""
    return recipients.annotate(
        wa=FilteredRelation("attempts", condition=Q(attempts__channel=Channel.WHATSAPP)),
        sms=FilteredRelation("attempts", condition=Q(attempts__channel=Channel.SMS)),
    )


def local_zones(campaigns: Iterable[Campaign]) -> dict[int, ZoneInfo]:
    """Return the time zone of each campaign's sub-account by sub-account id, UTC where
    the name is not an IANA zone. Sub-accounts already loaded cost no query."""
    sub_accounts = {
        campaign.sub_account_id: campaign.sub_account
        for campaign in campaigns
        if Campaign.sub_account.is_cached(campaign)
    }
    missing = {campaign.sub_account_id for campaign in campaigns} - sub_accounts.keys()
    if missing:
        found = SubAccount.objects.filter(pk__in=missing).only("timezone")
        sub_accounts.update({sub_account.pk: sub_account for sub_account in found})
    return {pk: sub_account.zone or UTC for pk, sub_account in sub_accounts.items()}


def count_cells(recipients: QuerySet[Recipient], zone: ZoneInfo = UTC) -> list[Cell]:
    rows = (
        with_attempts(recipients)
        .values(
            "campaign_id",
            "country",
            "route",
            "status",
            "reason",
            "fallback_triggered",
            "delivered_both",
            day=TruncDate("finished_at", tzinfo=zone),
            category=F("campaign__template__category"),
            wa_status=F("wa__status"),
            wa_code=F("wa__error_code"),
            sms_status=F("sms__status"),
            sms_code=F("sms__error_code"),
            sms_segments=F("sms__segments"),
        )
        .annotate(recipients=Count("id"))
        .order_by()
    )
    return [_clean(dict(row)) for row in rows]


def cells_for(campaigns: Iterable[Campaign]) -> list[Cell]:
    campaigns = list(campaigns)
    zones = local_zones(campaigns)
    cells: list[Cell] = []
    for campaign in campaigns:
        zone = zones[campaign.sub_account_id]
        if campaign.status in FINISHED:
            cells.extend(_stored_cells(campaign, zone))
        else:
            cells.extend(count_cells(Recipient.objects.filter(campaign=campaign), zone))
    return cells


def refresh(campaign: Campaign, zone: ZoneInfo | None = None) -> list[Cell]:
    """Count a finished campaign's cells again and store them."""
    started = timezone.now()
    if zone is None:
        zone = local_zones([campaign])[campaign.sub_account_id]
    cells = count_cells(Recipient.objects.filter(campaign=campaign), zone)
    with transaction.atomic():
        ReportCell.objects.filter(campaign=campaign).delete()
        ReportCell.objects.bulk_create(ReportCell(**cell) for cell in cells)
        CampaignRollup.objects.update_or_create(
            campaign=campaign, defaults={"computed_at": started, "time_zone": str(zone)}
        )
    logger.info("campaign %s: stored %s report cells", campaign.pk, len(cells))
    return cells


def _stored_cells(campaign: Campaign, zone: ZoneInfo) -> list[Cell]:
    rollup = CampaignRollup.objects.filter(campaign=campaign).first()
    # Cells stored under another time zone, before the sub-account's changed, have other days.
    if (
        rollup is None
        or rollup.time_zone != str(zone)
        or _changed_since(campaign, rollup.computed_at)
    ):
        return refresh(campaign, zone)
    return list(ReportCell.objects.filter(campaign=campaign).values(*COLUMNS, "recipients"))


def _changed_since(campaign: Campaign, moment: Any) -> bool:
    # Both lookups use an index on updated_at, so they read only rows changed since then.
    recipients = Recipient.objects.filter(campaign=campaign, updated_at__gte=moment)
    attempts = DeliveryAttempt.objects.filter(updated_at__gte=moment, recipient__campaign=campaign)
    return recipients.exists() or attempts.exists()


def _clean(row: dict[str, Any]) -> Cell:
    for name in ("wa_status", "wa_code", "sms_status", "sms_code", "category"):
        row[name] = row[name] or ""
    return row
