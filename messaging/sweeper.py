"""Periodic repair from the database, for work lost with a worker or with Redis.

The database is the record of what remains to do, and Redis contains only the queue and the
limits. Each sweep:

* releases attempts left "queued" by a dead worker, and those left "sending" whose
  request was never made (see messaging.unsent): nothing was sent for them;
* marks attempts "sending" for longer than SWEEP_UNKNOWN_AFTER_SECONDS with no status
  webhook as "unknown" and ends their recipients: the request may have reached the
  provider, so the message is never sent again, and a late webhook still counts;
* queues again the processing of webhook events received but not processed;
* queues the launch of campaigns stuck in "launching" and the dispatch of running
  campaigns that have recipients due, in case their jobs were lost;
* falls back to SMS for WhatsApp messages past their campaign's no-delivery timeout,
  in case the check scheduled after their batch was lost;
* ends waiting recipients of cancelled campaigns and completes finished campaigns.

Running a dispatch twice is harmless because claims are conditional. The sweeper still
queues dispatch through enqueue_dispatch's flag, so that sweeps do not pile up jobs.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from campaigns import reasons, transitions
from campaigns.models import Campaign, CampaignStatus, Recipient, RecipientStatus

from . import delivery_timeout, dispatch, outcomes, unsent
from .models import AttemptStatus, DeliveryAttempt, ProviderEvent
from .queue import EVENTS, enqueue, enqueue_dispatch

logger = logging.getLogger(__name__)


@dataclass
class SweepReport:
    released: int = 0
    unknown: int = 0
    events: int = 0
    timed_out: int = 0
    launches: list[int] = field(default_factory=list)
    dispatches: list[int] = field(default_factory=list)


def sweep(queued_after: float | None = None, unknown_after: float | None = None) -> SweepReport:
    """Run one sweep; the ages default to the SWEEP_* settings, in seconds."""
    if queued_after is None:
        queued_after = settings.SWEEP_QUEUED_AFTER_SECONDS
    if unknown_after is None:
        unknown_after = settings.SWEEP_UNKNOWN_AFTER_SECONDS
    report = SweepReport()
    report.released = release_abandoned(queued_after)
    report.unknown = mark_unknown(unknown_after)
    report.events = requeue_events(queued_after)
    report.launches = requeue_launches(queued_after)
    report.timed_out = delivery_timeout.fall_back_overdue()
    delivery_timeout.clear_settled()
    report.dispatches = requeue_dispatch()
    end_cancelled()
    logger.info(
        "sweep: %s released, %s unknown, %s events, %s timed out, launches %s, dispatches %s",
        report.released,
        report.unknown,
        report.events,
        report.timed_out,
        report.launches,
        report.dispatches,
    )
    return report


def release_abandoned(older_than: float) -> int:
    """Hand back attempts whose worker stopped before their request: those still queued,
    and those marked sending whose request, by its marker, was never made."""
    cutoff = timezone.now() - timedelta(seconds=older_than)
    stale = DeliveryAttempt.objects.filter(status=AttemptStatus.QUEUED, created_at__lt=cutoff)
    released = dispatch.release(
        stale.select_related("recipient"),
        None,
        "worker stopped before sending",
        "released to be sent by another worker",
    )
    sending = DeliveryAttempt.objects.filter(status=AttemptStatus.SENDING, updated_at__lt=cutoff)
    never_sent = unsent.release(sending.values_list("pk", flat=True))
    released += dispatch.release(
        DeliveryAttempt.objects.filter(pk__in=never_sent),
        None,
        "worker stopped before the request",
        "released to be sent by another worker",
        from_status=AttemptStatus.SENDING,
    )
    return released


def mark_unknown(older_than: float) -> int:
    cutoff = timezone.now() - timedelta(seconds=older_than)
    stuck = list(
        DeliveryAttempt.objects.filter(status=AttemptStatus.SENDING, updated_at__lt=cutoff)
    )
    marked = 0
    for attempt in stuck:
        changed = DeliveryAttempt.objects.filter(
            pk=attempt.pk, status=AttemptStatus.SENDING
        ).update(status=AttemptStatus.UNKNOWN, updated_at=timezone.now())
        if changed:
            marked += 1
            logger.warning("attempt %s: no response and no webhook; marked unknown", attempt.pk)
            outcomes.outcome_unknown(attempt, older_than)
    return marked


def requeue_events(older_than: float) -> int:
    """Queue the event drain when events wait unprocessed, in case its job was lost;
    returns how many wait. Applying an event twice changes nothing, because attempts and
    recipients only move forward."""
    from .events import process_pending_events

    cutoff = timezone.now() - timedelta(seconds=older_than)
    count = ProviderEvent.objects.filter(processed_at__isnull=True, received_at__lt=cutoff).count()
    if count:
        # Straight to the queue, past the flag of enqueue_event_processing: the flag may
        # belong to the very job that was lost.
        enqueue(process_pending_events, queue_name=EVENTS)
    return count


def requeue_launches(older_than: float) -> list[int]:
    from campaigns.launch import launch_campaign

    cutoff = timezone.now() - timedelta(seconds=older_than)
    stuck = list(
        Campaign.objects.filter(
            status=CampaignStatus.LAUNCHING, launched_at__lt=cutoff, recipients__isnull=True
        ).values_list("pk", flat=True)
    )
    for campaign_id in stuck:
        enqueue(launch_campaign, campaign_id)
    return stuck


def requeue_dispatch() -> list[int]:
    due = Q(recipients__send_after__isnull=True) | Q(recipients__send_after__lte=timezone.now())
    # One filter() call, so that the waiting recipient is also the due one. In two calls a
    # finished recipient made any campaign with recipients held until later look due.
    running = list(
        Campaign.objects.filter(status=CampaignStatus.RUNNING)
        .filter(due & Q(recipients__status__in=dispatch.WAITING))
        .values_list("pk", flat=True)
        .distinct()
    )
    for campaign_id in running:
        # Through the flag, so that a sweep every 30 s does not stack a job per sweep
        # behind a dispatch that is still sending.
        enqueue_dispatch(campaign_id)
    for campaign_id in Campaign.objects.filter(status=CampaignStatus.RUNNING).values_list(
        "pk", flat=True
    ):
        transitions.finish_campaign_if_done(campaign_id)
    return running


def end_cancelled() -> int:
    return Recipient.objects.filter(
        campaign__status=CampaignStatus.CANCELLED, status__in=dispatch.WAITING
    ).update(
        status=RecipientStatus.CANCELLED,
        reason=reasons.CAMPAIGN_CANCELLED,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
