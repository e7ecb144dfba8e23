"""RQ jobs that send: claim a batch of recipients, hold back those that may not be sent
yet, and send the rest at the senders' pace.

Any number of workers run these jobs at once. A recipient is claimed by a conditional
update from its waiting status to its sending one, in the transaction that creates its
attempt row in status "queued", so two workers never claim the same recipient. An attempt
becomes "sending" only just before its HTTP request (see messaging.sending): a worker
killed before that sent nothing, and the sweeper hands the recipient back; one killed
after it may have sent, and only the provider's status webhook decides.
"""

from __future__ import annotations

import gc
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min, Q, QuerySet
from django.utils import timezone

from campaigns import transitions
from campaigns.models import Campaign, CampaignStatus, Decision, Recipient, RecipientStatus

from . import schedule, sending
from .models import AttemptStatus, Channel, DeliveryAttempt
from .queue import clear_dispatch_flag, enqueue, redis

logger = logging.getLogger(__name__)

CLAIMS = {
    Channel.WHATSAPP: (RecipientStatus.PENDING, RecipientStatus.WHATSAPP_SENDING),
    Channel.SMS: (RecipientStatus.SMS_PENDING, RecipientStatus.SMS_SENDING),
}
WAITING = [waiting for waiting, _ in CLAIMS.values()]
RELATED = (
    "recipient__contact",
    "recipient__campaign__sub_account",
    "recipient__campaign__template",
)
# Dispatch claims more of a channel once less than this many seconds of its reserved send
# slots remain, so the sender's next slot is reserved before its last one goes out.
LOOKAHEAD_SECONDS = 1.0
# How long dispatch waits before it claims again on a channel whose last claim found
# nothing, while other sends keep it busy. It bounds how long a new fallback SMS waits.
IDLE_RECHECK_SECONDS = 0.25
# A chunk's requests start this long before its first slot is due, so that recording
# responses or a slow request never makes a chunk late. A late chunk would send its overdue
# slots at once, and the provider counts such a burst against its per-second limit.
START_AHEAD_SECONDS = 0.5
# A dispatch job hands its worker back after this long and queues its own continuation,
# so that one large campaign does not hold a worker while others wait.
SLICE_SECONDS = 30.0
# Redis key of the time a campaign's dispatch is scheduled to wake for held recipients.
WAKE_PREFIX = "switchback:dispatch-wake:"
WAKE_MARGIN_SECONDS = 5.0
# Campaign.status_reason lines that dispatch writes start with this, so that dispatch
# clears its own notes and leaves those of halts alone.
WAIT_NOTE = "Waiting: "


@dataclass(frozen=True)
class Defer:
    """A send check's verdict: not now, try again at `until` (None: the check ended the
    recipient itself and nothing is to be sent)."""

    until: datetime | None
    event: str
    action: str


# The per-attempt "may send now?" hooks, run on every claimed attempt before pacing.
# A check returns None to let the attempt go, or a Defer. Consent and quiet hours add
# theirs here.
SendCheck = Callable[[DeliveryAttempt, datetime], Defer | None]
SEND_CHECKS: list[SendCheck] = []


def dispatch_campaign(campaign_id: int) -> int:
    """Send to the waiting recipients of a running campaign until none can be sent now, or
    for SLICE_SECONDS; returns the number of messages requested.

    Each round claims more recipients of a channel once less than LOOKAHEAD_SECONDS of its
    reserved slots remain, starts the requests of every chunk due within
    START_AHEAD_SECONDS, and records the chunks whose responses are in. Fallback SMS are
    claimed as soon as they are due, whatever WhatsApp does.
    """
    logger.info("dispatch of campaign %s started", campaign_id)
    # From here on, new work needs a new job: this one may already be past it.
    clear_dispatch_flag(campaign_id)
    # A full garbage collection of a worker's Django heap stops every thread for about
    # 70 ms (measured on 2 cores), after which the overdue sends go out together, and the
    # provider counts such a burst against its per-second limit. Objects that exist now
    # are left out of collections until the job ends.
    gc.freeze()
    try:
        return _dispatch(campaign_id)
    finally:
        gc.unfreeze()


def _dispatch(campaign_id: int) -> int:
    made = 0
    timed: list[sending.Timed] = []
    in_flight: deque[sending.Chunk] = deque()
    # When a channel's last claim found nothing, by channel (time.monotonic()).
    idle_since: dict[Channel, float] = {}
    slice_ends = time.monotonic() + SLICE_SECONDS
    with sending.pool_for(settings.DISPATCH_CONCURRENCY) as pool:
        while True:
            campaign = _running(campaign_id)
            if campaign is not None and not in_flight and not timed:
                drip = _send_drip_batch(campaign)
                if drip is not None:
                    made += drip
                    break
            claimed = 0
            if campaign is not None and time.monotonic() < slice_ends:
                fresh = _claim_due(campaign, timed, in_flight, idle_since)
                claimed = len(fresh)
                timed = sorted(timed + sending.prepare(fresh), key=lambda pair: pair[0])
            while timed and timed[0][0] - time.monotonic() < START_AHEAD_SECONDS:
                chunk, timed = sending.start_chunk(pool, timed)
                in_flight.append(chunk)
            while in_flight and in_flight[0].done():
                made += sending.finish_chunk(in_flight.popleft())
            if claimed:
                continue
            if in_flight or timed:
                _wait_for_work(in_flight, timed)
                continue
            if campaign is not None:
                _plan_next(campaign, sliced=time.monotonic() >= slice_ends)
            break
    transitions.finish_campaign_if_done(campaign_id)
    logger.info("dispatch of campaign %s stopped after %s messages", campaign_id, made)
    return made


def _wait_for_work(in_flight: deque[sending.Chunk], timed: list[sending.Timed]) -> None:
    """Block until the oldest chunk's responses are in or the next chunk is to start,
    whichever comes first."""
    next_start = timed[0][0] - START_AHEAD_SECONDS - time.monotonic() if timed else None
    if in_flight:
        in_flight[0].wait(None if next_start is None else max(0.0, next_start))
    elif next_start is not None and next_start > 0:
        time.sleep(next_start)


def _send_drip_batch(campaign: Campaign) -> int | None:
    """Send the next batch of a campaign that waits or drips; returns None when the
    campaign is neither and dispatch goes on as usual."""
    now = timezone.now()
    wait = schedule.wait_before_sending(campaign, now)
    if wait is not None:
        _wait(campaign, wait.until, wait.reason)
        return 0
    limit = schedule.take_drip_batch(campaign, now)
    if limit is None:
        return None
    if limit == 0:
        return 0
    made = sending.send_batch(_claim_batch(campaign.pk, limit))
    # A drip campaign sends one batch per window; the next job comes at next_batch_at.
    enqueue(dispatch_campaign, campaign.pk, delay=(campaign.drip_every_minutes or 1) * 60)
    return made


def _claim_due(
    campaign: Campaign,
    timed: list[sending.Timed],
    in_flight: deque[sending.Chunk],
    idle_since: dict[Channel, float],
) -> list[DeliveryAttempt]:
    """Claim, per channel, about LOOKAHEAD_SECONDS of sends at the sender's rate, once
    less than that is reserved, keeping at most DISPATCH_BATCH_SIZE sends unanswered.

    A channel whose last claim found nothing is claimed again only after IDLE_RECHECK_SECONDS
    while other sends are in flight, which saves a transaction per round.
    """
    room = settings.DISPATCH_BATCH_SIZE - len(timed) - sum(c.unanswered() for c in in_flight)
    claimed: list[DeliveryAttempt] = []
    now = time.monotonic()
    horizon = now + LOOKAHEAD_SECONDS
    busy = bool(timed or in_flight)
    for channel in (Channel.SMS, Channel.WHATSAPP):
        if busy and now - idle_since.get(channel, -IDLE_RECHECK_SECONDS) < IDLE_RECHECK_SECONDS:
            continue
        last_due = max((due for due, a in timed if a.channel == channel), default=0.0)
        rate = (
            campaign.sub_account.sms_messages_per_second
            if channel == Channel.SMS
            else campaign.sub_account.whatsapp_messages_per_second
        )
        # Half the batch at most, so that the next claim runs while the sends claimed now
        # are still in flight.
        limit = max(1, min(settings.DISPATCH_BATCH_SIZE // 2, math.ceil(rate * LOOKAHEAD_SECONDS)))
        if last_due > horizon or room < limit:
            continue
        fresh = claim(campaign.pk, channel, limit, campaign)
        if fresh:
            idle_since.pop(channel, None)
        else:
            idle_since[channel] = now
        room -= len(fresh)
        claimed += fresh
    return claimed


def _plan_next(campaign: Campaign, sliced: bool) -> None:
    if sliced:
        # Back of the queue, so that other campaigns and events get a worker too.
        logger.info("campaign %s: dispatch slice of %.0f s used up", campaign.pk, SLICE_SECONDS)
        enqueue(dispatch_campaign, campaign.pk)
    else:
        _wake_for_deferred(campaign)


def _running(campaign_id: int) -> Campaign | None:
    return (
        Campaign.objects.select_related("sub_account", "template")
        .filter(pk=campaign_id, status=CampaignStatus.RUNNING)
        .first()
    )


def _claim_batch(campaign_id: int, limit: int) -> list[DeliveryAttempt]:
    batch = claim(campaign_id, Channel.WHATSAPP, limit)
    return batch + claim(campaign_id, Channel.SMS, limit - len(batch))


def claim(
    campaign_id: int, channel: Channel, limit: int, campaign: Campaign | None = None
) -> list[DeliveryAttempt]:
    """Claim up to `limit` waiting recipients whose send_after has passed; returns their new
    attempts, in status "queued", with their recipient, contact and campaign (the given
    `campaign`, loaded with its sub-account and template, or one loaded here)."""
    if limit <= 0:
        return []
    waiting, claimed_status = CLAIMS[channel]
    with transaction.atomic():
        # SKIP LOCKED lets concurrent workers take disjoint batches on PostgreSQL, and the
        # row locks keep the rows waiting until this transaction ends.
        recipients = list(
            due_in_order(campaign_id, waiting)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("contact")[:limit]
        )
        if recipients and not connection.features.has_select_for_update:
            # Without row locks (SQLite), only the rows still waiting now are claimed.
            still = set(
                Recipient.objects.filter(
                    id__in=[r.pk for r in recipients], status=waiting
                ).values_list("id", flat=True)
            )
            recipients = [r for r in recipients if r.pk in still]
        if not recipients:
            return []
        Recipient.objects.filter(id__in=[r.pk for r in recipients]).update(status=claimed_status)
        # bulk_create sets the primary keys on PostgreSQL and SQLite 3.35+.
        attempts = DeliveryAttempt.objects.bulk_create(
            DeliveryAttempt(recipient=r, channel=channel, status=AttemptStatus.QUEUED)
            for r in recipients
        )
    if campaign is None:
        campaign = Campaign.objects.select_related("sub_account", "template").get(pk=campaign_id)
    for recipient in recipients:
        recipient.status = claimed_status
        recipient.campaign = campaign
    return attempts


def due_in_order(campaign_id: int, status: str) -> QuerySet[Recipient]:
    """Return the campaign's recipients in `status` whose send_after has passed, in the
    order dispatch claims them."""
    due = Q(send_after__isnull=True) | Q(send_after__lte=timezone.now())
    return Recipient.objects.filter(due, campaign_id=campaign_id, status=status).order_by("id")


def release(
    attempts: Iterable[DeliveryAttempt],
    until: datetime | None,
    event: str,
    action: str,
    from_status: str = AttemptStatus.QUEUED,
) -> int:
    """Hand claimed attempts that sent nothing back to the waiting state, to be claimed
    again from `until` on. Returns how many were released.

    The attempt row is deleted, because the one-attempt-per-channel constraint must admit
    the next claim, and the decision log keeps the event. Rows that moved on meanwhile are
    left alone.
    """
    released = 0
    for attempt in attempts:
        waiting, claimed_status = CLAIMS[Channel(attempt.channel)]
        with transaction.atomic():
            deleted, _ = DeliveryAttempt.objects.filter(pk=attempt.pk, status=from_status).delete()
            if not deleted:
                continue
            Recipient.objects.filter(pk=attempt.recipient_id, status=claimed_status).update(
                status=waiting, send_after=until, updated_at=timezone.now()
            )
            Decision.objects.create(recipient_id=attempt.recipient_id, event=event, action=action)
        released += 1
    return released


def retry_attempt(attempt_id: int) -> None:
    """Send an attempt again after a failure that, by the provider's error, left nothing sent."""
    attempt = DeliveryAttempt.objects.select_related(*RELATED).get(pk=attempt_id)
    campaign = attempt.recipient.campaign
    if campaign.status == CampaignStatus.CANCELLED:
        _cancel_waiting_retry(attempt)
        return
    claimed = DeliveryAttempt.objects.filter(pk=attempt_id, status=AttemptStatus.RETRY_WAIT).update(
        status=AttemptStatus.QUEUED, tries=attempt.tries
    )
    if not claimed:
        logger.info("attempt %s is no longer waiting for a retry", attempt_id)
        return
    attempt.status = AttemptStatus.QUEUED
    logger.info("attempt %s: try %s", attempt_id, attempt.tries + 1)
    sending.send_batch([attempt])


def note_wait(campaign_id: int, reason: str) -> None:
    """Show why a running campaign is not sending; dispatch clears it when sending resumes."""
    Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.RUNNING).update(
        status_reason=f"{WAIT_NOTE}{reason}"[:255]
    )


def clear_wait(campaign_id: int) -> None:
    Campaign.objects.filter(pk=campaign_id, status_reason__startswith=WAIT_NOTE).update(
        status_reason=""
    )


def _wait(campaign: Campaign, until: datetime, reason: str) -> None:
    note_wait(campaign.pk, reason)
    delay = max(1.0, (until - timezone.now()).total_seconds())
    logger.info("campaign %s waits %.0f s: %s", campaign.pk, delay, reason)
    enqueue(dispatch_campaign, campaign.pk, delay=delay)


def _wake_for_deferred(campaign: Campaign) -> None:
    """Schedule the next dispatch for recipients held back until a later time."""
    later = Recipient.objects.filter(
        campaign_id=campaign.pk, status__in=WAITING, send_after__gt=timezone.now()
    ).aggregate(first=Min("send_after"))["first"]
    if later is None:
        clear_wait(campaign.pk)
        return
    delay = max(1.0, (later - timezone.now()).total_seconds())
    # A resume clears the campaign's note, so it is written again here with the due time.
    waiting_later = Recipient.objects.filter(
        campaign_id=campaign.pk, status__in=WAITING, send_after__gt=timezone.now()
    ).count()
    Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.RUNNING, status_reason="").update(
        status_reason=f"{WAIT_NOTE}{waiting_later} recipient{'' if waiting_later == 1 else 's'} held until "
        f"{later:%Y-%m-%d %H:%M} UTC or later; each one's delivery log says why"[:255]
    )
    # One wake-up per due time, or a campaign held overnight gathers a job per dispatch run.
    # A wake-up due within WAKE_MARGIN_SECONDS may be this job, run early, so it is ignored.
    wake = later.timestamp()
    key = f"{WAKE_PREFIX}{campaign.pk}"
    scheduled: bytes | None = redis().get(key)  # type: ignore[assignment]
    if scheduled is not None and time.time() + WAKE_MARGIN_SECONDS < float(scheduled) <= wake:
        logger.info("campaign %s: dispatch already due by %s", campaign.pk, later)
        return
    redis().set(key, repr(wake), ex=int(delay) + 60)
    logger.info("campaign %s: next deferred recipient due in %.0f s", campaign.pk, delay)
    enqueue(dispatch_campaign, campaign.pk, delay=delay)


def _cancel_waiting_retry(attempt: DeliveryAttempt) -> None:
    from . import outcomes

    DeliveryAttempt.objects.filter(pk=attempt.pk, status=AttemptStatus.RETRY_WAIT).update(
        status=AttemptStatus.FAILED
    )
    in_flight = outcomes.IN_FLIGHT[Channel(attempt.channel)]
    if transitions.advance(
        attempt.recipient_id, in_flight, RecipientStatus.CANCELLED, reason="campaign_cancelled"
    ):
        transitions.record(attempt.recipient_id, "retry due", "not retried: campaign cancelled")
    transitions.finish_campaign_if_done(attempt.recipient.campaign_id)
