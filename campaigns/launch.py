"""Launch a campaign: materialize its recipients, route each one, start dispatch."""

import logging

from django.db import transaction
from django.utils import timezone

from messaging.queue import enqueue, enqueue_dispatch

from . import reasons, transitions
from .audience import AudienceFilter
from .models import Campaign, CampaignStatus, Contact, Decision, Recipient, RecipientStatus, Route
from .routing import Routing, e164, route

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000

ROUTE_WORDS = {
    Route.WHATSAPP: "WhatsApp first; the SMS text is the fallback",
    Route.DIRECT_SMS: "SMS directly, without a WhatsApp attempt",
    Route.NONE: "skipped",
}


class LaunchError(Exception):
    """The campaign cannot be launched in its current state; the message names what to fix."""


def start_launch(campaign: Campaign) -> None:
    """Check the campaign and queue its launch job."""
    if not campaign.template.sendable:
        raise LaunchError(
            f"Template {campaign.template} is {campaign.template.status}: "
            "pick an approved template."
        )
    if campaign.fallback_enabled and not campaign.fallback_text.strip():
        raise LaunchError(
            "Fallback is on but the SMS text is empty: write it or turn fallback off."
        )
    changed = Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.DRAFT).update(
        status=CampaignStatus.LAUNCHING, launched_at=timezone.now()
    )
    if not changed:
        raise LaunchError(f"Campaign {campaign.pk} is {campaign.status}, not a draft.")
    logger.info("campaign %s queued for launch", campaign.pk)
    enqueue(launch_campaign, campaign.pk)


def launch_campaign(campaign_id: int) -> None:
    """RQ job: create the recipients of a campaign that is launching, then start sending."""
    campaign = Campaign.objects.select_related("sub_account", "template").get(pk=campaign_id)
    if campaign.status != CampaignStatus.LAUNCHING:
        logger.info("campaign %s is %s; launch skipped", campaign_id, campaign.status)
        return
    logger.info("launch of campaign %s started", campaign_id)

    with transaction.atomic():
        counts = _materialize(campaign)
        Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.LAUNCHING).update(
            status=CampaignStatus.RUNNING
        )
        enqueue_dispatch(campaign_id)
    transitions.finish_campaign_if_done(campaign_id)
    logger.info("launch of campaign %s finished: recipients per route %s", campaign_id, counts)


def audience(campaign: Campaign):
    contacts = Contact.objects.filter(sub_account_id=campaign.sub_account_id).order_by("id")
    return contacts


def _materialize(campaign: Campaign) -> dict[str, int]:
    counts: dict[str, int] = {}
    seen: set[str] = set()
    batch: list[tuple[Recipient, str]] = []
    wanted = AudienceFilter(campaign)
    for contact in audience(campaign).iterator(chunk_size=BATCH_SIZE):
        # Tags and the uploaded list are filtered here rather than in SQL: JSON containment
        # differs between SQLite and PostgreSQL, and the contact rows are read anyway.
        if not wanted.includes(contact):
            continue
        recipient, words = _route(campaign, contact, seen)
        counts[str(recipient.route)] = counts.get(str(recipient.route), 0) + 1
        batch.append((recipient, words))
        if len(batch) >= BATCH_SIZE:
            _insert(batch)
            batch = []
    _insert(batch)
    return counts


def _route(campaign: Campaign, contact: Contact, seen: set[str]) -> tuple[Recipient, str]:
    # Two spellings of one number ("+44 7400 123456", "+447400123456") are one person.
    number = e164(contact.phone)
    if number in seen:
        routed = Routing(Route.NONE, RecipientStatus.SKIPPED, reasons.DUPLICATE_NUMBER)
    else:
        routed = route(contact, campaign)
    routing_route, status, reason = routed.route, routed.status, routed.reason
    seen.add(number)
    recipient = Recipient(
        campaign=campaign,
        contact=contact,
        phone=contact.phone,
        country=contact.country,
        route=routing_route,
        status=status,
        reason=reason,
        finished_at=timezone.now() if status == RecipientStatus.SKIPPED else None,
    )
    words = ROUTE_WORDS[Route(routing_route)]
    if reason:
        words = f"{words}: {reasons.describe(reason)}"
    return recipient, words


def _insert(batch: list[tuple[Recipient, str]]) -> None:
    if not batch:
        return
    recipients = Recipient.objects.bulk_create([recipient for recipient, _ in batch])
    Decision.objects.bulk_create(
        Decision(
            recipient=recipient,
            event="campaign launched",
            code=recipient.reason,
            rule="routing",
            action=words,
        )
        for recipient, (_, words) in zip(recipients, batch, strict=True)
    )
    # Skipped recipients are final from the start and never pass through
    # transitions.advance, so their recipient.final events are sent here, one job per batch.
    skipped = [r.pk for r in recipients if r.status == RecipientStatus.SKIPPED]
    if skipped:
        from messaging import outbound

        outbound.recipients_final(recipients[0].campaign_id, skipped)
