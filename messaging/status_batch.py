"""Apply many WhatsApp "sent", "delivered" and "read" statuses with a few bulk queries.

These statuses are most of what Meta posts: up to three per message sent. Applied one by
one they cost about nine queries each. Here a whole batch costs a handful, with the same
forward-only conditions as messaging.outcomes, so a repeated or late status still changes
nothing. A delivery that meets a recipient already past "WhatsApp in flight" (its
fallback SMS queued or sent) takes the one-by-one path in outcomes.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping

from django.utils import timezone

from campaigns import transitions
from campaigns.models import Decision, Recipient, RecipientStatus

from . import outbound, outcomes
from .models import AttemptStatus, Channel, DeliveryAttempt

logger = logging.getLogger(__name__)

# The statuses applied here; any other status takes the path of its whole event. Twilio's
# progress statuses count as "sent" and its "read" as "delivered", as in messaging.events.
BULK_STATUSES = ("sent", "delivered", "read")


def apply(statuses: Mapping[str, Iterable[DeliveryAttempt]]) -> None:
    """Apply the "delivered" and then the "read" statuses, by name, to their attempts of
    either channel. Call inside a transaction, after apply_sent and any failures."""
    for name in ("delivered", "read"):
        attempts = _unique(statuses.get(name, ()))
        whatsapp = [attempt for attempt in attempts if attempt.channel == Channel.WHATSAPP]
        apply_delivered(whatsapp, name)
        apply_sms_delivered([attempt for attempt in attempts if attempt.channel == Channel.SMS])


def apply_sent(attempts: list[DeliveryAttempt]) -> None:
    """Bulk form of outcomes.sent."""
    attempts = _unique(attempts)
    if not attempts:
        return
    now = timezone.now()
    DeliveryAttempt.objects.filter(
        pk__in=[a.pk for a in attempts],
        status__in=[AttemptStatus.SENDING, AttemptStatus.UNKNOWN, AttemptStatus.ACCEPTED],
    ).update(status=AttemptStatus.SENT, updated_at=now)
    for channel in (Channel.WHATSAPP, Channel.SMS):
        sending, sent = outcomes.IN_FLIGHT[channel]
        Recipient.objects.filter(
            pk__in=[a.recipient_id for a in attempts if a.channel == channel], status=sending
        ).update(status=sent, updated_at=now)


def apply_sms_delivered(attempts: list[DeliveryAttempt]) -> None:
    """Bulk form of outcomes.delivered for SMS attempts."""
    if not attempts:
        return
    now = timezone.now()
    changed = dict(
        DeliveryAttempt.objects.select_for_update()
        .filter(pk__in=[a.pk for a in attempts], status__in=outcomes.OPEN)
        .values_list("pk", "recipient_id")
    )
    DeliveryAttempt.objects.filter(pk__in=list(changed)).update(
        status=AttemptStatus.DELIVERED, delivered_at=now, updated_at=now
    )
    recipient_ids = set(changed.values())
    moved = _finish_recipients(
        recipient_ids,
        Channel.SMS,
        RecipientStatus.DELIVERED_SMS,
        "SMS delivered",
        "done: delivered by SMS",
    )
    for recipient_id in sorted(recipient_ids - moved):
        if outcomes.revive_unknown(recipient_id, RecipientStatus.FAILED_BOTH):
            transitions.record(recipient_id, "SMS delivered", "done: delivered by SMS")


def apply_delivered(attempts: list[DeliveryAttempt], status: str) -> None:
    """Bulk form of outcomes.delivered for WhatsApp attempts."""
    if not attempts:
        return
    already = (
        [AttemptStatus.READ]
        if status == AttemptStatus.READ
        else [AttemptStatus.DELIVERED, AttemptStatus.READ]
    )
    now = timezone.now()
    # The row locks keep the attempts in the state read here until the transaction ends,
    # so the ids below are exactly the rows this update moves (PostgreSQL; SQLite runs
    # one writer at a time).
    changed = dict(
        DeliveryAttempt.objects.select_for_update()
        .filter(pk__in=[a.pk for a in attempts])
        .exclude(status__in=already)
        .values_list("pk", "recipient_id")
    )
    if not changed:
        return
    DeliveryAttempt.objects.filter(pk__in=list(changed)).update(
        status=status, delivered_at=now, updated_at=now
    )

    recipient_ids = set(changed.values())
    moved = _finish_recipients(
        recipient_ids,
        Channel.WHATSAPP,
        RecipientStatus.DELIVERED_WHATSAPP,
        f"WhatsApp {status}",
        "done: delivered on WhatsApp",
    )
    # Recipients no longer in flight had their fallback queued or sent meanwhile.
    others = sorted(recipient_ids - moved)
    for recipient_id in others:
        outcomes.whatsapp_delivered_after_fallback(recipient_id, status)
    campaign_ids = Recipient.objects.filter(pk__in=others).values_list("campaign_id", flat=True)
    for campaign_id in set(campaign_ids):
        transitions.finish_campaign_if_done(campaign_id)


def _finish_recipients(
    recipient_ids: set[int], channel: Channel, final: str, event: str, action: str
) -> set[int]:
    """Move the recipients still in flight on the channel to a final status and log the
    decision; returns the ids moved. Bulk form of transitions.advance and record."""
    now = timezone.now()
    moved = dict(
        Recipient.objects.select_for_update()
        .filter(pk__in=recipient_ids, status__in=outcomes.IN_FLIGHT[channel])
        .values_list("pk", "campaign_id")
    )
    if not moved:
        return set()
    Recipient.objects.filter(pk__in=list(moved)).update(
        status=final, finished_at=now, updated_at=now
    )
    Decision.objects.bulk_create(
        Decision(recipient_id=recipient_id, event=event, action=action)
        for recipient_id in sorted(moved)
    )
    by_campaign: dict[int, list[int]] = defaultdict(list)
    for recipient_id, campaign_id in moved.items():
        by_campaign[campaign_id].append(recipient_id)
    for campaign_id, ids in by_campaign.items():
        outbound.recipients_final(campaign_id, sorted(ids))
        transitions.finish_campaign_if_done(campaign_id)
    logger.debug("%s recipients moved to %s", len(moved), final)
    return set(moved)


def _unique(attempts: Iterable[DeliveryAttempt]) -> list[DeliveryAttempt]:
    return list({attempt.pk: attempt for attempt in attempts}.values())
