"""Send claimed attempts at the providers' pace.

prepare() takes a batch of claimed attempts through the send checks, admits WhatsApp
recipients to the business portfolio's messaging limit and the pair rate, and reserves one
slot per message on each sender's rate limit. The slots are then sent in chunks of those
due next: start_chunk() moves the chunk's attempts from "queued" to "sending" by a
conditional update and starts their requests, and finish_chunk() records the answers.
The campaign's status is read again before every chunk, so a pause or cancel stops
sending within CHUNK_SECONDS. Dispatch prepares the next batch while a chunk is in flight,
so a sender's slots follow each other without a gap.
"""

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent import futures
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from campaigns import reasons
from campaigns.models import Campaign, CampaignStatus, Recipient, RecipientStatus

from . import delivery_timeout, dispatch, outcomes, pacing, send_gate, unsent
from .content import sms_text, template_parameters
from .models import AttemptStatus, Channel, DeliveryAttempt
from .providers import ProviderError, ProviderUnreachable, SendResult, twilio, whatsapp

logger = logging.getLogger(__name__)

# Slots due within this many seconds go out together; it bounds how long a claimed attempt
# sits in "sending" before its request and how late a pause takes effect.
CHUNK_SECONDS = 0.25
# Provider errors that mean "too fast": the message was not sent, the sender slows down
# and the recipient waits, without counting as a failure.
THROTTLE_CODES = frozenset({"130429", "20429", "30001"})

Answer = SendResult | ProviderError | ProviderUnreachable
# A reserved send: when it is due (a time.monotonic() value) and the attempt.
Timed = tuple[float, DeliveryAttempt]


@dataclass
class Chunk:
    """Requests started by start_chunk() and not yet recorded."""

    sends: list[Timed]
    answers: list[Future[Answer | None]]

    def done(self) -> bool:
        return all(future.done() for future in self.answers)

    def unanswered(self) -> int:
        return sum(not future.done() for future in self.answers)

    def wait(self, timeout: float | None) -> None:
        futures.wait(self.answers, timeout=timeout)


def send_batch(attempts: list[DeliveryAttempt]) -> int:
    """Send queued attempts, holding back those that may not go now; returns how many
    requests were made."""
    timed = prepare(attempts)
    made = 0
    with pool_for(len(timed)) as pool:
        while timed:
            chunk, timed = start_chunk(pool, timed)
            made += finish_chunk(chunk)
    return made


def pool_for(sends: int) -> ThreadPoolExecutor:
    workers = max(1, min(settings.DISPATCH_CONCURRENCY, sends))
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="send")


def prepare(attempts: list[DeliveryAttempt]) -> list[Timed]:
    """Hold back the attempts that may not go now and reserve a send slot for the rest;
    returns them with their due times, earliest first."""
    now = timezone.now()
    # Consent and quiet hours are checked at send time: routing happened at launch.
    ready = send_gate.admit(attempts)
    ready = _run_checks(ready, now)
    ready = _admit_to_portfolios(ready)
    ready = _take_pairs(ready)
    timed = _reserve_slots(ready)
    if timed:
        # The checks must come after the last of these sends, which may be seconds away.
        delivery_timeout.schedule_checks(
            (attempt for _, attempt in timed), after=timed[-1][0] - time.monotonic()
        )
    return timed


def _run_checks(attempts: list[DeliveryAttempt], now: datetime) -> list[DeliveryAttempt]:
    ready = []
    for attempt in attempts:
        verdict = next(
            (found for check in dispatch.SEND_CHECKS if (found := check(attempt, now))), None
        )
        if verdict is None:
            ready.append(attempt)
        elif verdict.until is None:
            # The check ended the recipient itself; the unused attempt row goes.
            DeliveryAttempt.objects.filter(pk=attempt.pk, status=AttemptStatus.QUEUED).delete()
        else:
            dispatch.release([attempt], verdict.until, verdict.event, verdict.action)
    return ready


def _admit_to_portfolios(attempts: list[DeliveryAttempt]) -> list[DeliveryAttempt]:
    ready = [a for a in attempts if _portfolio(a) is None]
    by_portfolio: dict[int, list[DeliveryAttempt]] = defaultdict(list)
    for attempt in attempts:
        portfolio = _portfolio(attempt)
        if portfolio is not None:
            by_portfolio[portfolio.pk].append(attempt)
    for group in by_portfolio.values():
        portfolio = _portfolio(group[0])
        assert portfolio is not None
        numbers = [a.recipient.phone for a in group]
        admitted, wait = pacing.admit_to_portfolio(portfolio.pk, portfolio.messaging_limit, numbers)
        ready += group[:admitted]
        if admitted < len(group):
            _hold_for_portfolio(group[admitted:], portfolio.name, portfolio.messaging_limit, wait)
    return ready


def _portfolio(attempt: DeliveryAttempt):
    if attempt.channel != Channel.WHATSAPP:
        return None
    portfolio = attempt.recipient.campaign.sub_account.business_portfolio
    if portfolio is None or not portfolio.messaging_limit:
        return None
    return portfolio


def _hold_for_portfolio(
    attempts: list[DeliveryAttempt], name: str, limit: int, wait: float
) -> None:
    until = timezone.now() + timedelta(seconds=wait)
    reason = (
        f"business portfolio {name} reached its messaging limit of {limit} unique "
        f"recipients in 24 h; sending resumes by itself at {until:%Y-%m-%d %H:%M} UTC."
    )
    logger.info("%s recipients held: %s", len(attempts), reason)
    dispatch.release(
        attempts, until, "messaging limit reached", "waiting for room in the 24 h window"
    )
    for campaign_id in {a.recipient.campaign_id for a in attempts}:
        dispatch.note_wait(campaign_id, reason)


def _take_pairs(attempts: list[DeliveryAttempt]) -> list[DeliveryAttempt]:
    by_sender: dict[str, list[DeliveryAttempt]] = defaultdict(list)
    ready = []
    for attempt in attempts:
        # A retry follows a rejection that sent nothing, after its own backoff. Releasing
        # it here would drop the attempt row and with it the count of tries.
        if attempt.channel == Channel.WHATSAPP and not attempt.tries:
            by_sender[_sender(attempt)].append(attempt)
        else:
            ready.append(attempt)
    for sender, group in by_sender.items():
        taken = pacing.take_pairs(sender, [a.recipient.phone for a in group])
        for attempt in group:
            wait = taken.get(attempt.recipient.phone)
            if wait is None:
                ready.append(attempt)
                continue
            until = timezone.now() + timedelta(seconds=wait)
            dispatch.release(
                [attempt], until, "pair rate", "this number got a message less than 6 s ago"
            )
    return ready


def _reserve_slots(attempts: list[DeliveryAttempt]) -> list[Timed]:
    by_sender: dict[str, list[DeliveryAttempt]] = defaultdict(list)
    for attempt in attempts:
        by_sender[_sender(attempt)].append(attempt)
    timed = []
    for key, group in by_sender.items():
        # The provider counts arrivals, and concurrent requests reach it with a few
        # milliseconds of jitter; pacing just below the limit keeps them under it.
        rate = _rate(group[0]) * settings.PACING_SHARE
        reservation = pacing.reserve(key, len(group), rate)
        timed += [(reservation.due_at(i), attempt) for i, attempt in enumerate(group)]
    timed.sort(key=lambda pair: pair[0])
    return timed


def _sender(attempt: DeliveryAttempt) -> str:
    sub_account = attempt.recipient.campaign.sub_account
    if attempt.channel == Channel.WHATSAPP:
        return pacing.sender_key("whatsapp", sub_account.whatsapp_phone_number_id)
    return pacing.sender_key("sms", sub_account.sms_from_number)


def _rate(attempt: DeliveryAttempt) -> float:
    sub_account = attempt.recipient.campaign.sub_account
    if attempt.channel == Channel.WHATSAPP:
        return sub_account.whatsapp_messages_per_second
    return sub_account.sms_messages_per_second


def start_chunk(pool: ThreadPoolExecutor, timed: list[Timed]) -> tuple[Chunk, list[Timed]]:
    """Start the requests of the sends due next; returns them and the sends left."""
    horizon = max(time.monotonic(), timed[0][0]) + CHUNK_SECONDS
    size = next((i for i, (due, _) in enumerate(timed) if due > horizon), len(timed))
    sends, rest = timed[:size], timed[size:]
    stopped = _stopped_campaigns({attempt.recipient.campaign_id for _, attempt in sends})
    if stopped:
        _release_stopped([p for p in sends + rest if p[1].recipient.campaign_id in stopped])
        sends = [p for p in sends if p[1].recipient.campaign_id not in stopped]
        rest = [p for p in rest if p[1].recipient.campaign_id not in stopped]
    live = _mark_sending([attempt for _, attempt in sends])
    sends = [pair for pair in sends if pair[1].pk in live]
    answers = [
        pool.submit(
            _call_when_due,
            due,
            attempt.pk,
            (_sender(attempt), _rate(attempt)),
            _request_for(attempt),
        )
        for due, attempt in sends
    ]
    return Chunk(sends, answers), rest


def finish_chunk(chunk: Chunk) -> int:
    """Wait for the chunk's responses and record them; returns how many requests were made."""
    answers = [future.result() for future in chunk.answers]
    accepted = []
    made = 0
    for (_, attempt), answer in zip(chunk.sends, answers, strict=True):
        if answer is None:
            continue
        made += 1
        if isinstance(answer, SendResult):
            accepted.append((attempt, answer))
        else:
            _record(attempt, answer)
    if accepted:
        _record_accepted(accepted)
    return made


def _mark_sending(attempts: list[DeliveryAttempt]) -> set[int]:
    """Move queued attempts to "sending"; returns the ids moved. The sweeper may have
    released some meanwhile, and those are not sent."""
    ids = [attempt.pk for attempt in attempts]
    with transaction.atomic():
        live = set(
            DeliveryAttempt.objects.select_for_update()
            .filter(pk__in=ids, status=AttemptStatus.QUEUED)
            .values_list("pk", flat=True)
        )
        now = timezone.now()
        DeliveryAttempt.objects.filter(pk__in=live).update(
            status=AttemptStatus.SENDING, tries=F("tries") + 1, updated_at=now
        )
        delivery_timeout.stamp_deadlines((a for a in attempts if a.pk in live), now)
        # Before the commit, so that no "sending" row is ever without its marker.
        unsent.mark(live)
    for attempt in attempts:
        if attempt.pk in live:
            attempt.status = AttemptStatus.SENDING
            attempt.tries += 1
    if len(live) < len(ids):
        logger.warning("%s claimed attempts were released before sending", len(ids) - len(live))
    return live


def _stopped_campaigns(campaign_ids: set[int]) -> set[int]:
    running = Campaign.objects.filter(
        pk__in=campaign_ids, status=CampaignStatus.RUNNING
    ).values_list("pk", flat=True)
    return campaign_ids - set(running)


def _release_stopped(pairs: list[tuple[float, DeliveryAttempt]]) -> None:
    attempts = [attempt for _, attempt in pairs]
    dispatch.release(attempts, None, "campaign paused or cancelled", "not sent")
    for campaign_id in {a.recipient.campaign_id for a in attempts}:
        # Cancelling ended the waiting recipients already; these were claimed at the time.
        Recipient.objects.filter(
            campaign_id=campaign_id,
            campaign__status=CampaignStatus.CANCELLED,
            status__in=dispatch.WAITING,
        ).update(
            status=RecipientStatus.CANCELLED,
            reason=reasons.CAMPAIGN_CANCELLED,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )


def _call_when_due(
    due: float,
    attempt_id: int,
    sender: tuple[str, float],
    request: Callable[[], SendResult],
) -> Answer | None:
    """Make the request at its slot, once the sender's moving second has room.

    Returns None, and sends nothing, when the sweeper released the attempt meanwhile
    because its worker looked dead."""
    delay = due - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    key, rate = sender
    while (wait := pacing.enter_window(key, rate)) > 0:
        time.sleep(wait)
    if not unsent.take(attempt_id):
        logger.warning("attempt %s was released while waiting for its slot; not sent", attempt_id)
        return None
    try:
        return request()
    except (ProviderError, ProviderUnreachable) as exc:
        return exc


def _record(attempt: DeliveryAttempt, answer: Answer) -> None:
    try:
        if isinstance(answer, SendResult):
            outcomes.accepted(attempt, answer)
        elif isinstance(answer, ProviderError) and answer.code in THROTTLE_CODES:
            _throttled(attempt, answer)
        elif isinstance(answer, ProviderError):
            logger.info("attempt %s rejected: %s %s", attempt.pk, answer.code, answer.title)
            outcomes.failed(attempt, outcomes.Failure(answer.code, answer.title, answer.detail))
        else:
            outcomes.unreachable(attempt, answer)
    except Exception:
        # One recipient's bookkeeping error must not stop the rest of the batch.
        logger.exception("attempt %s: recording the provider response failed", attempt.pk)


def _record_accepted(accepted: list[tuple[DeliveryAttempt, SendResult]]) -> None:
    """Record accepted sends with a few queries for the whole chunk; outcomes.accepted
    does the same for one attempt."""
    ids = [attempt.pk for attempt, _ in accepted]
    try:
        with transaction.atomic():
            _store_message_ids(accepted)
            by_channel: dict[str, list[int]] = defaultdict(list)
            for attempt, _ in accepted:
                by_channel[attempt.channel].append(attempt.recipient_id)
            for channel, recipient_ids in by_channel.items():
                sending, sent = outcomes.IN_FLIGHT[Channel(channel)]
                Recipient.objects.filter(pk__in=recipient_ids, status=sending).update(
                    status=sent, updated_at=timezone.now()
                )
    except Exception:
        logger.exception("recording %s accepted sends in bulk failed; recording each", len(ids))
        for attempt, result in accepted:
            _record(attempt, result)


def _store_message_ids(accepted: list[tuple[DeliveryAttempt, SendResult]]) -> None:
    """Move the attempts from "sending" to "accepted" with their provider message ids. An
    attempt that a status webhook moved on first only gets its id and segment count."""
    table = connection.ops.quote_name(DeliveryAttempt._meta.db_table)
    rows = ", ".join(["(%s, %s, %s)"] * len(accepted))
    values: list[Any] = []
    for attempt, result in accepted:
        values += [attempt.pk, result.provider_message_id, result.segments]
    # One UPDATE ... FROM (VALUES ...) per case, which PostgreSQL and SQLite 3.33+ both
    # run. VALUES names its columns column1, column2, ... on both.
    matched = f"FROM (VALUES {rows}) AS v WHERE {table}.id = v.column1"
    segments = f"COALESCE(CAST(v.column3 AS smallint), {table}.segments)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, provider_message_id = v.column2, "
            f"segments = {segments}, updated_at = %s {matched} AND {table}.status = %s",
            [AttemptStatus.ACCEPTED, timezone.now(), *values, AttemptStatus.SENDING],
        )
        cursor.execute(
            f"UPDATE {table} SET provider_message_id = v.column2, segments = {segments} "
            f"{matched} AND {table}.provider_message_id = %s",
            [*values, ""],
        )


def _throttled(attempt: DeliveryAttempt, error: ProviderError) -> None:
    """Slow the whole sender down, then retry this attempt as the policy table decides.

    The retry counts, so a sender throttled on every try ends its recipients as the table
    decides instead of holding them forever.
    """
    wait = pacing.slow_down(_sender(attempt))
    logger.info("attempt %s throttled (%s); sender paused %.2f s", attempt.pk, error.code, wait)
    outcomes.failed(attempt, outcomes.Failure(error.code, error.title, error.detail))


def _request_for(attempt: DeliveryAttempt) -> Callable[[], SendResult]:
    recipient = attempt.recipient
    campaign = recipient.campaign
    sub_account = campaign.sub_account
    if attempt.channel == Channel.WHATSAPP:
        template = campaign.template
        parameters = template_parameters(campaign, recipient.contact)
        return lambda: whatsapp.send_template(
            phone_number_id=sub_account.whatsapp_phone_number_id,
            access_token=sub_account.whatsapp_access_token,
            to=recipient.phone,
            name=template.name,
            language=template.language,
            parameters=parameters,
            callback_data=callback_data(attempt.pk),
        )
    body = sms_text(campaign, recipient.contact)
    return lambda: twilio.send_sms(
        account_sid=sub_account.twilio_account_sid,
        auth_token=sub_account.twilio_auth_token,
        from_number=sub_account.sms_from_number,
        to=recipient.phone,
        body=body,
        status_callback=status_callback_url(attempt.pk),
    )


def callback_data(attempt_id: int) -> str:
    return f"attempt:{attempt_id}"


def status_callback_url(attempt_id: int) -> str:
    return f"{settings.PUBLIC_BASE_URL}/webhooks/twilio/status/{attempt_id}/"
