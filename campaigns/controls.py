"""Pause, resume and cancel a campaign: the same calls serve the UI, admin and the API."""

import logging
from collections.abc import Sequence

from django.utils import timezone

from . import reasons
from .models import Campaign, CampaignStatus, Recipient, RecipientStatus

logger = logging.getLogger(__name__)

# Recipients with nothing at a provider yet; cancelling ends them at once. Those already
# sent keep receiving their statuses, but never fall back.
NOT_YET_SENT = [RecipientStatus.PENDING, RecipientStatus.SMS_PENDING]


class ControlError(Exception):
    """The campaign is not in a state that allows the action; the message says which."""


def pause(campaign: Campaign) -> None:
    if not _move(
        campaign, [CampaignStatus.RUNNING, CampaignStatus.LAUNCHING], CampaignStatus.PAUSED
    ):
        raise ControlError(
            f"Campaign {campaign.pk} is {campaign.status}; only a running campaign can be paused."
        )


def resume(campaign: Campaign) -> None:
    if not _move(campaign, [CampaignStatus.PAUSED], CampaignStatus.RUNNING, status_reason=""):
        raise ControlError(
            f"Campaign {campaign.pk} is {campaign.status}; only a paused campaign can be resumed."
        )
    from messaging.queue import enqueue_dispatch

    enqueue_dispatch(campaign.pk)


def cancel(campaign: Campaign) -> int:
    """Cancel the campaign and end its unsent recipients; returns how many were ended."""
    open_statuses = [
        CampaignStatus.DRAFT,
        CampaignStatus.LAUNCHING,
        CampaignStatus.RUNNING,
        CampaignStatus.PAUSED,
    ]
    if not _move(campaign, open_statuses, CampaignStatus.CANCELLED, finished_at=timezone.now()):
        raise ControlError(f"Campaign {campaign.pk} is already {campaign.status}.")
    ended = Recipient.objects.filter(campaign=campaign, status__in=NOT_YET_SENT).update(
        status=RecipientStatus.CANCELLED,
        reason=reasons.CAMPAIGN_CANCELLED,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
    logger.info("campaign %s cancelled; %s unsent recipients ended", campaign.pk, ended)
    return ended


def _move(campaign: Campaign, from_statuses: Sequence[str], to_status: str, **fields) -> bool:
    changed = Campaign.objects.filter(pk=campaign.pk, status__in=from_statuses).update(
        status=to_status, **fields
    )
    campaign.refresh_from_db()
    if changed:
        logger.info("campaign %s is now %s", campaign.pk, to_status)
    return bool(changed)
