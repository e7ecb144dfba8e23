"""Apply many WhatsApp "failed" statuses that lead to the fallback SMS, with bulk queries.

During a campaign to many numbers that WhatsApp cannot reach, a failure arrives for nearly
every message sent, and each one applied by messaging.outcomes.failed costs about twelve
queries. Here the common case costs a few queries per batch: a failure whose rule falls
back, halts nothing and learns at most that the number is off WhatsApp, for a running
campaign whose contact can take the SMS. Every other failure, and any attempt already
past "open", goes through outcomes.failed one by one, in the same transaction.
"""

import logging
from collections import defaultdict

from django.utils import timezone

from campaigns.models import CampaignStatus, Contact, Decision, Recipient, RecipientStatus
from campaigns.routing import sms_blocker

from . import outcomes
from .models import AttemptStatus, Channel, DeliveryAttempt
from .policy import Action, Halt, Learn, Rule, classify
from .queue import enqueue_dispatch

logger = logging.getLogger(__name__)

Failure = tuple[DeliveryAttempt, outcomes.Failure]


def apply_failed(failures: list[Failure]) -> None:
    """Apply WhatsApp failures; call inside a transaction."""
    if not failures:
        return
    ids = [attempt.pk for attempt, _ in failures]
    # Locked and read once, with everything the fallback decision needs.
    current = {
        attempt.pk: attempt
        for attempt in DeliveryAttempt.objects.select_for_update(of=("self",))
        .filter(pk__in=ids, status__in=outcomes.OPEN)
        .select_related("recipient__contact", "recipient__campaign__sub_account")
    }
    bulk: list[tuple[DeliveryAttempt, outcomes.Failure, Rule]] = []
    for attempt, failure in failures:
        fresh = current.pop(attempt.pk, None)
        if fresh is None:
            # Repeated, or late after the attempt moved on: outcomes.failed logs and skips it.
            outcomes.failed(attempt, failure)
            continue
        rule = _bulk_rule(fresh, failure)
        if rule is None:
            outcomes.failed(fresh, failure)
        else:
            bulk.append((fresh, failure, rule))
    if bulk:
        _fall_back(bulk)


def _bulk_rule(attempt: DeliveryAttempt, failure: outcomes.Failure) -> Rule | None:
    """Return the rule when the failure may take the bulk path, else None."""
    campaign = attempt.recipient.campaign
    rule = classify(Channel.WHATSAPP, failure.code, campaign.sub_account_id)
    bulkable = (
        rule.action == Action.FALLBACK
        and rule.halt == Halt.NONE
        and rule.learn in (Learn.NONE, Learn.WHATSAPP_UNREACHABLE)
        and campaign.status == CampaignStatus.RUNNING
        and campaign.fallback_enabled
        and attempt.recipient.status in outcomes.IN_FLIGHT[Channel.WHATSAPP]
        and not sms_blocker(attempt.recipient.contact, campaign)
    )
    return rule if bulkable else None


def _fall_back(bulk: list[tuple[DeliveryAttempt, outcomes.Failure, Rule]]) -> None:
    now = timezone.now()
    by_error: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    by_code: dict[str, list[int]] = defaultdict(list)
    for attempt, failure, _ in bulk:
        by_error[(failure.code, failure.title, failure.detail)].append(attempt.pk)
        by_code[failure.code].append(attempt.recipient_id)
    for (code, title, detail), attempt_ids in by_error.items():
        DeliveryAttempt.objects.filter(pk__in=attempt_ids).update(
            status=AttemptStatus.FAILED,
            error_code=code[:16],
            error_title=title[:255],
            error_detail=detail[:2000],
            updated_at=now,
        )

    unreachable = [
        a.recipient.contact_id for a, _, r in bulk if r.learn == Learn.WHATSAPP_UNREACHABLE
    ]
    Contact.objects.filter(pk__in=unreachable).update(whatsapp_unreachable_at=now, updated_at=now)

    # Locked like the attempts, so the decisions below are logged for exactly the
    # recipients this update moves.
    moved = set(
        Recipient.objects.select_for_update()
        .filter(
            pk__in=[a.recipient_id for a, _, _ in bulk],
            status__in=outcomes.IN_FLIGHT[Channel.WHATSAPP],
        )
        .values_list("pk", flat=True)
    )
    for code, recipient_ids in by_code.items():
        Recipient.objects.filter(pk__in=[r for r in recipient_ids if r in moved]).update(
            status=RecipientStatus.SMS_PENDING,
            reason=code,
            fallback_triggered=True,
            updated_at=now,
        )
    Decision.objects.bulk_create(
        Decision(
            recipient_id=attempt.recipient_id,
            event=f"WhatsApp failed: {failure.title}"[:200],
            code=failure.code[:32],
            rule=rule.description[:200],
            action="fallback SMS queued",
        )
        for attempt, failure, rule in bulk
        if attempt.recipient_id in moved
    )
    for campaign_id in {a.recipient.campaign_id for a, _, _ in bulk if a.recipient_id in moved}:
        enqueue_dispatch(campaign_id)
    # Each recipient's decision row records its fallback; this line is for tracing batches.
    logger.debug("%s WhatsApp failures fell back to SMS in bulk", len(moved))
