"""The no-delivery timeout: send the SMS text when WhatsApp stays silent for too long.

A campaign may set whatsapp_delivery_timeout_minutes. Every WhatsApp request of such a
campaign stamps its attempt with delivery_due_at. A message that has reported neither
delivered, read nor failed by then falls back to SMS as after a fallback-eligible error.
If WhatsApp delivers after all, messaging.outcomes records the recipient as delivered on
both channels, or drops the SMS when it has not gone out yet.

Two paths run the check, any number of times and on any worker: an RQ job scheduled
after every sent batch, and the sweeper, which catches deadlines whose job was lost with
Redis. A deadline is claimed by clearing delivery_due_at with a conditional update in
the same transaction that moves the recipient, so each one is handled once. The claim
also requires the attempt to be still without a report, and it locks the attempt row, so
a delivered status that arrives at the same moment either wins before it or waits.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from campaigns import reasons, transitions
from campaigns.models import CampaignStatus, Recipient, RecipientStatus
from campaigns.routing import sms_blocker

from .models import AttemptStatus, Channel, DeliveryAttempt
from .queue import enqueue, enqueue_dispatch

logger = logging.getLogger(__name__)

# Attempts with a message at WhatsApp and no report of its fate. An "unknown" attempt
# counts: its request got no response, and no status came either.
UNREPORTED = [AttemptStatus.ACCEPTED, AttemptStatus.SENT, AttemptStatus.UNKNOWN]
# Attempts whose deadline no longer matters: WhatsApp reported the outcome.
SETTLED = [AttemptStatus.DELIVERED, AttemptStatus.READ, AttemptStatus.FAILED]
WAITING_FOR_WHATSAPP = [RecipientStatus.WHATSAPP_SENDING, RecipientStatus.WHATSAPP_SENT]
# The scheduled check runs this long after the batch's last deadline, so that a worker
# clock slightly ahead of the one that stamped the deadlines does not find them early.
CHECK_MARGIN_SECONDS = 1.0
# Overdue attempts handled per query, so a large backlog does not load at once.
CHUNK_SIZE = 500
RULE = "the campaign's no-delivery timeout"


def stamp_deadlines(attempts: Iterable[DeliveryAttempt], sent_at: datetime) -> None:
    """Set delivery_due_at on WhatsApp attempts about to be requested, for campaigns
    with a timeout. Attempts of other campaigns keep any older value, which the check
    clears once it finds the timeout off."""
    by_minutes: dict[int, list[int]] = defaultdict(list)
    for attempt in attempts:
        minutes = attempt.recipient.campaign.whatsapp_delivery_timeout_minutes
        if attempt.channel == Channel.WHATSAPP and minutes:
            by_minutes[minutes].append(attempt.pk)
    for minutes, ids in by_minutes.items():
        due = sent_at + timedelta(minutes=minutes)
        DeliveryAttempt.objects.filter(pk__in=ids).update(delivery_due_at=due)


def schedule_checks(attempts: Iterable[DeliveryAttempt], after: float = 0.0) -> None:
    """Queue one check per campaign with a timeout, due after the batch's last deadline;
    `after` is the seconds until the batch's last send."""
    timeouts = {
        attempt.recipient.campaign_id: attempt.recipient.campaign.whatsapp_delivery_timeout_minutes
        for attempt in attempts
        if attempt.channel == Channel.WHATSAPP
    }
    for campaign_id, minutes in timeouts.items():
        if minutes:
            delay = minutes * 60 + max(0.0, after) + CHECK_MARGIN_SECONDS
            enqueue(fall_back_overdue, campaign_id, delay=delay)


def fall_back_overdue(campaign_id: int | None = None) -> int:
    """Handle every WhatsApp attempt past its deadline, of one campaign or of all; returns
    how many recipients fell back to SMS."""
    overdue = DeliveryAttempt.objects.filter(
        channel=Channel.WHATSAPP, delivery_due_at__lte=timezone.now(), status__in=UNREPORTED
    )
    if campaign_id is not None:
        overdue = overdue.filter(recipient__campaign_id=campaign_id)
    ids = list(overdue.order_by("delivery_due_at").values_list("pk", flat=True))
    fell_back = 0
    for start in range(0, len(ids), CHUNK_SIZE):
        chunk = DeliveryAttempt.objects.filter(pk__in=ids[start : start + CHUNK_SIZE])
        for attempt in chunk.select_related(
            "recipient__contact", "recipient__campaign__sub_account"
        ):
            try:
                fell_back += _handle(attempt)
            except Exception:
                # One recipient's error must not hold back the others; the deadline stays
                # set because the transaction rolled back, so the sweeper tries again.
                logger.exception("attempt %s: no-delivery timeout check failed", attempt.pk)
    if ids:
        logger.info(
            "no-delivery timeout (campaign %s): %s overdue, %s fell back to SMS",
            campaign_id if campaign_id is not None else "any",
            len(ids),
            fell_back,
        )
    return fell_back


def clear_settled() -> int:
    """Clear the deadlines of attempts WhatsApp has reported on; returns how many."""
    return DeliveryAttempt.objects.filter(delivery_due_at__isnull=False, status__in=SETTLED).update(
        delivery_due_at=None
    )


def _handle(attempt: DeliveryAttempt) -> bool:
    recipient = attempt.recipient
    campaign = recipient.campaign
    with transaction.atomic():
        claimed = DeliveryAttempt.objects.filter(
            pk=attempt.pk, delivery_due_at__isnull=False, status__in=UNREPORTED
        ).update(delivery_due_at=None)
        if not claimed:
            return False
        minutes = campaign.whatsapp_delivery_timeout_minutes
        if not minutes:
            logger.info("attempt %s: campaign %s turned the timeout off", attempt.pk, campaign.pk)
            return False
        if not Recipient.objects.filter(pk=recipient.pk, status__in=WAITING_FOR_WHATSAPP).exists():
            return False

        event = f"no WhatsApp delivery report within {minutes} minutes of the send"
        if campaign.status == CampaignStatus.CANCELLED:
            transitions.record(recipient.pk, event, "no fallback: campaign cancelled", rule=RULE)
            return False
        blocker = reasons.FALLBACK_OFF if not campaign.fallback_enabled else ""
        blocker = blocker or sms_blocker(recipient.contact, campaign)
        if blocker:
            action = (
                f"no fallback possible: {reasons.describe(blocker)}; WhatsApp may still deliver"
            )
            transitions.record(recipient.pk, event, action, blocker, RULE)
            return False

        moved = transitions.advance(
            recipient.pk,
            WAITING_FOR_WHATSAPP,
            RecipientStatus.SMS_PENDING,
            reason=reasons.NO_DELIVERY_REPORT,
            fallback_triggered=True,
        )
        if not moved:
            return False
        transitions.record(recipient.pk, event, "fallback SMS queued", rule=RULE)
        enqueue_dispatch(campaign.pk)
    logger.info(
        "attempt %s (recipient %s): no delivery report in %s min, fallback SMS queued",
        attempt.pk,
        recipient.pk,
        minutes,
    )
    return True
