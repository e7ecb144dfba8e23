"""Charges per delivered channel, and spend estimates before launch.

Each recipient is charged only for the channel that delivered. Charges are computed when
a report is read, from the report cells (`reports.cells`) and the agency's current rate
card, rather than stored when a recipient reaches a final state. That keeps
billing out of the delivery path, and a rate card corrected later reprices past sends.
NOTE: a template Meta re-categorizes after the send is priced by its new category.

A recipient delivered on both channels (WhatsApp arrived after the fallback SMS went out)
is charged for both messages, because both providers bill them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import phonenumbers
from django.db.models import Count

from campaigns.audience import AudienceFilter
from campaigns.launch import audience
from campaigns.models import Agency, Campaign, Route
from campaigns.routing import route
from messaging import segments
from messaging.content import sms_text
from messaging.models import AttemptStatus, Channel

from .models import SmsRate, WhatsAppRate

logger = logging.getLogger(__name__)

DELIVERED = [AttemptStatus.DELIVERED, AttemptStatus.READ]
CENT = Decimal("0.00001")


@dataclass
class ChannelSpend:
    messages: int = 0
    # SMS segments billed; zero for WhatsApp, which is priced per message.
    segments: int = 0
    cost: Decimal = Decimal("0")
    # Delivered messages without a rate in the agency's rate card; they add no cost.
    unpriced: int = 0


@dataclass
class Spend:
    markup: Decimal = Decimal("0")
    channels: dict[str, ChannelSpend] = field(
        default_factory=lambda: {Channel.WHATSAPP: ChannelSpend(), Channel.SMS: ChannelSpend()}
    )

    @property
    def cost(self) -> Decimal:
        return sum((spend.cost for spend in self.channels.values()), Decimal("0"))

    @property
    def price(self) -> Decimal:
        return agency_price(self.cost, self.markup)

    def price_of(self, channel: str) -> Decimal:
        return agency_price(self.channels[channel].cost, self.markup)


def agency_price(cost: Decimal, markup: Decimal) -> Decimal:
    return (cost * (1 + markup)).quantize(CENT)


class RateCard:
    """An agency's rates, loaded once per report."""

    def __init__(self, agency: Agency) -> None:
        self.markup = agency.markup
        self.whatsapp = {
            (rate.category, rate.calling_code): rate.price
            for rate in WhatsAppRate.objects.filter(agency=agency)
        }
        self.sms = {rate.country: rate.price for rate in SmsRate.objects.filter(agency=agency)}

    def whatsapp_price(self, category: str, country: str) -> Decimal | None:
        code = phonenumbers.country_code_for_region(country or "ZZ")
        return self.whatsapp.get((category, str(code))) if code else None

    def sms_price(self, country: str) -> Decimal | None:
        return self.sms.get(country)


def charge_cells(cells: Iterable[dict[str, Any]], card: RateCard) -> Spend:
    """Charge the delivered attempts counted in report cells."""
    rows = []
    for cell in cells:
        category, country, campaign_id = cell["category"], cell["country"], cell["campaign_id"]
        if cell["wa_status"] in DELIVERED:
            rows.append(
                _row(Channel.WHATSAPP, 0, country, campaign_id, category, cell["recipients"])
            )
        if cell["sms_status"] in DELIVERED:
            parts = cell["sms_segments"] or 0
            rows.append(
                _row(Channel.SMS, parts, country, campaign_id, category, cell["recipients"])
            )
    return _charge(rows, card)


def estimate(campaign: Campaign) -> Spend:
    """Estimate a campaign's spend as if every routed recipient were delivered on its first
    channel.

    Before launch the audience is routed now, and each SMS counts the segments of its own
    rendered text. After launch the recipients' stored routes are used, because contacts
    may have changed since, and SMS are counted at the segments of the unrendered text.
    """
    if campaign.recipients.exists():
        return _estimate_launched(campaign)
    card = RateCard(campaign.sub_account.agency)
    category = campaign.template.category
    wanted = AudienceFilter(campaign)
    rows: list[dict[str, Any]] = []
    for contact in audience(campaign).iterator(chunk_size=500):
        if not wanted.includes(contact):
            continue
        routed = route(contact, campaign).route
        if routed == Route.NONE:
            continue
        channel = Channel.SMS if routed == Route.DIRECT_SMS else Channel.WHATSAPP
        parts = segments.count(sms_text(campaign, contact)).segments if channel == "sms" else 0
        rows.append(_row(channel, parts, contact.country, campaign.pk, category))
    return _charge(rows, card)


def _estimate_launched(campaign: Campaign) -> Spend:
    # NOTE: merge fields make SMS lengths differ per contact; the unrendered text is an
    # estimate of their segment count.
    groups = (
        campaign.recipients.exclude(route=Route.NONE)
        .values("route", "country")
        .annotate(count=Count("id"))
        .order_by()
    )
    category = campaign.template.category
    rows = [
        _row(
            Channel.SMS if group["route"] == Route.DIRECT_SMS else Channel.WHATSAPP,
            0,
            group["country"],
            campaign.pk,
            category,
            group["count"],
        )
        for group in groups
    ]
    return _charge(rows, RateCard(campaign.sub_account.agency))


def _row(
    channel: str, parts: int, country: str, campaign_id: int, category: str, count: int = 1
) -> dict[str, Any]:
    return {
        "channel": channel,
        "segments": parts,
        "recipient__country": country,
        "recipient__campaign_id": campaign_id,
        "recipient__campaign__template__category": category,
        "count": count,
    }


def _charge(rows: Iterable[dict[str, Any]], card: RateCard) -> Spend:
    spend = Spend(markup=card.markup)
    fallback_segments: dict[int, int] = {}
    for row in rows:
        channel, country, count = row["channel"], row["recipient__country"], row["count"]
        line = spend.channels[channel]
        line.messages += count
        if channel == Channel.WHATSAPP:
            rate = card.whatsapp_price(row["recipient__campaign__template__category"], country)
            units = count
        else:
            parts = row["segments"] or _text_segments(
                row["recipient__campaign_id"], fallback_segments
            )
            rate = card.sms_price(country)
            units = count * parts
            line.segments += units
        if rate is None:
            line.unpriced += count
            continue
        line.cost += rate * units
    return spend


def _text_segments(campaign_id: int, known: dict[int, int]) -> int:
    # Twilio returns num_segments in its send response. An attempt whose response was lost
    # has none, so it is billed at the segment count of the campaign's SMS text.
    if campaign_id not in known:
        text = Campaign.objects.values_list("fallback_text", flat=True).get(pk=campaign_id)
        known[campaign_id] = max(segments.count(text).segments, 1)
        logger.info(
            "campaign %s: SMS without num_segments billed as %s", campaign_id, known[campaign_id]
        )
    return known[campaign_id]
