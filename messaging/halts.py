"""Stop using a template, or pause a campaign, when a provider reports that it cannot be used."""

import logging

from django.db.models import Q
from django.utils import timezone

from campaigns import transitions
from campaigns.models import (
    Campaign,
    CampaignStatus,
    Recipient,
    RecipientStatus,
    Template,
    TemplateStatus,
)
from campaigns.routing import sms_blocker

from .queue import enqueue_dispatch

logger = logging.getLogger(__name__)

# The template status that a halting error code implies.
STATUS_FOR_CODE = {
    "132015": TemplateStatus.PAUSED,
    "131064": TemplateStatus.PAUSED,
    "132016": TemplateStatus.DISABLED,
    "132001": TemplateStatus.REJECTED,
    "132007": TemplateStatus.REJECTED,
}


def halt_template(template_id: int, status: str, cause: str) -> int:
    """Mark the template unusable and send the untouched recipients of its running campaigns
    to SMS. Returns how many recipients were diverted."""
    changed = (
        Template.objects.filter(pk=template_id)
        .exclude(status=status)
        .update(status=status, last_event=cause[:64], last_event_at=timezone.now())
    )
    if changed:
        logger.warning("template %s is now %s (%s)", template_id, status, cause)
    diverted = 0
    campaigns = Campaign.objects.filter(
        template_id=template_id, status__in=[CampaignStatus.RUNNING, CampaignStatus.PAUSED]
    ).select_related("sub_account", "template")
    for campaign in campaigns:
        diverted += divert_to_sms(campaign, cause)
    return diverted


def divert_to_sms(campaign: Campaign, cause: str) -> int:
    diverted = 0
    pending = Recipient.objects.filter(
        campaign=campaign, status=RecipientStatus.PENDING
    ).select_related("contact")
    for recipient in pending.iterator(chunk_size=500):
        blocker = "" if campaign.fallback_enabled else "fallback_off"
        blocker = blocker or sms_blocker(recipient.contact, campaign)
        if blocker:
            moved = transitions.advance(
                recipient.pk,
                [RecipientStatus.PENDING],
                RecipientStatus.FAILED_WHATSAPP,
                reason=f"{cause}/{blocker}",
            )
            action = f"not sent: template unusable and no fallback possible ({blocker})"
        else:
            moved = transitions.advance(
                recipient.pk,
                [RecipientStatus.PENDING],
                RecipientStatus.SMS_PENDING,
                reason=cause,
                fallback_triggered=True,
            )
            action = "fallback SMS queued without a WhatsApp attempt"
        if moved:
            diverted += 1
            transitions.record(recipient.pk, "template unusable", action, cause, "template halt")
    if diverted:
        logger.info("campaign %s: %s recipients diverted after %s", campaign.pk, diverted, cause)
        enqueue_dispatch(campaign.pk)
    transitions.finish_campaign_if_done(campaign.pk)
    return diverted


def pause_campaign(campaign_id: int, cause: str) -> None:
    changed = Campaign.objects.filter(
        Q(status=CampaignStatus.RUNNING) | Q(status=CampaignStatus.LAUNCHING), pk=campaign_id
    ).update(status=CampaignStatus.PAUSED, status_reason=cause[:255])
    if changed:
        # Staff must act (credentials, account standing): the error-level log line alerts whoever monitors the logs.
        logger.error("campaign %s paused by Switchback: %s", campaign_id, cause)
