"""Pause, resume and cancel a campaign: the same calls serve the UI, admin and the API."""

import logging
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from messaging.models import OutboundEvent

from . import reasons
from .models import Campaign, CampaignStatus, Recipient, RecipientStatus

logger = logging.getLogger(__name__)

# Recipients with nothing at a provider yet; cancelling ends them at once. Those already
# sent keep receiving their statuses, but never fall back.
NOT_YET_SENT = [RecipientStatus.PENDING, RecipientStatus.SMS_PENDING]
# Recipients ended per transaction when a webhook endpoint wants their recipient.final
# events; each batch's events are sent by one job.
CANCEL_BATCH = 2000


class ControlError(Exception):
    """The campaign is not in a state that allows the action; the message names it."""


def pause(campaign: Campaign) -> None:
    if not _move(
        campaign, [CampaignStatus.RUNNING, CampaignStatus.LAUNCHING], CampaignStatus.PAUSED
    ):
        raise ControlError(
            f"Campaign {campaign.pk} is {campaign.status}; only a running campaign can be paused."
        )
    _clear_wait_note(campaign)


def _clear_wait_note(campaign: Campaign) -> None:
    # "Waiting: ..." explains a running campaign; a paused or cancelled one waits for nothing.
    from messaging.dispatch import clear_wait

    clear_wait(campaign.pk)


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
    _clear_wait_note(campaign)
    from messaging import outbound

    if outbound.listens(campaign.sub_account_id, OutboundEvent.RECIPIENT_FINAL):
        ended = _end_unsent_with_events(campaign)
    else:
        ended = Recipient.objects.filter(campaign=campaign, status__in=NOT_YET_SENT).update(
            **_cancelled_fields()
        )
    logger.info("campaign %s cancelled; %s unsent recipients ended", campaign.pk, ended)
    return ended


def _cancelled_fields() -> dict[str, object]:
    now = timezone.now()
    return {
        "status": RecipientStatus.CANCELLED,
        "reason": reasons.CAMPAIGN_CANCELLED,
        "finished_at": now,
        "updated_at": now,
    }


def _end_unsent_with_events(campaign: Campaign) -> int:
    """Cancel the unsent recipients in batches, storing their recipient.final events with
    each batch."""
    from messaging import outbound

    ended = 0
    while True:
        with transaction.atomic():
            # Locked, so that dispatch cannot claim one of these rows between the read
            # and the update and get a cancelled event for a recipient it goes on to send.
            unsent = Recipient.objects.select_for_update().filter(
                campaign=campaign, status__in=NOT_YET_SENT
            )
            batch = list(unsent.order_by("id").values_list("id", flat=True)[:CANCEL_BATCH])
            if not batch:
                return ended
            Recipient.objects.filter(pk__in=batch).update(**_cancelled_fields())
            outbound.recipients_final(campaign.pk, batch)
        ended += len(batch)


def _move(campaign: Campaign, from_statuses: Sequence[str], to_status: str, **fields) -> bool:
    changed = Campaign.objects.filter(pk=campaign.pk, status__in=from_statuses).update(
        status=to_status, **fields
    )
    campaign.refresh_from_db()
    if changed:
        logger.info("campaign %s is now %s", campaign.pk, to_status)
    return bool(changed)
