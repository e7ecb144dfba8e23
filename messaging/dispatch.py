"""RQ jobs that send: claim a batch of recipients, create their attempts, send over HTTP.

Claiming is a conditional update from the waiting status to the sending one, inside the
same transaction that creates the attempt rows, so two workers never claim the same
recipient and every message on the wire has an attempt row that its webhooks can find.
HTTP requests run in a thread pool; the database is touched only from the job's thread.
"""

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import transaction

from campaigns import transitions
from campaigns.models import Campaign, CampaignStatus, Recipient, RecipientStatus

from . import outcomes, send_gate
from .content import sms_text, template_parameters
from .models import AttemptStatus, Channel, DeliveryAttempt
from .providers import ProviderError, ProviderUnreachable, SendResult, twilio, whatsapp
from .queue import clear_dispatch_flag

logger = logging.getLogger(__name__)

CLAIMS = {
    Channel.WHATSAPP: (RecipientStatus.PENDING, RecipientStatus.WHATSAPP_SENDING),
    Channel.SMS: (RecipientStatus.SMS_PENDING, RecipientStatus.SMS_SENDING),
}


def dispatch_campaign(campaign_id: int) -> int:
    """Send to every waiting recipient of a running campaign, batch by batch. Returns the
    number of attempts made."""
    logger.info("dispatch of campaign %s started", campaign_id)
    # From here on, new work needs a new job: this one may already be past it.
    clear_dispatch_flag(campaign_id)
    made = 0
    while Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.RUNNING).exists():
        batch = claim(campaign_id, Channel.WHATSAPP) + claim(campaign_id, Channel.SMS)
        if not batch:
            break
        send_all(batch)
        made += len(batch)
    transitions.finish_campaign_if_done(campaign_id)
    logger.info("dispatch of campaign %s stopped after %s attempts", campaign_id, made)
    return made


def claim(campaign_id: int, channel: Channel) -> list[DeliveryAttempt]:
    waiting, sending = CLAIMS[channel]
    with transaction.atomic():
        # SKIP LOCKED lets concurrent workers take disjoint batches on PostgreSQL; the status
        # condition in the UPDATE is what guarantees one claim per recipient everywhere.
        ids = list(
            Recipient.objects.select_for_update(skip_locked=True)
            .filter(campaign_id=campaign_id, status=waiting)
            .order_by("id")
            .values_list("id", flat=True)[: settings.DISPATCH_BATCH_SIZE]
        )
        if not ids:
            return []
        claimed = list(
            Recipient.objects.filter(id__in=ids, status=waiting).values_list("id", flat=True)
        )
        Recipient.objects.filter(id__in=claimed).update(status=sending)
        attempts = [
            DeliveryAttempt(
                recipient_id=rid, channel=channel, status=AttemptStatus.SENDING, tries=1
            )
            for rid in claimed
        ]
        DeliveryAttempt.objects.bulk_create(attempts)
    # bulk_create sets primary keys on PostgreSQL and SQLite; reload to be safe on both.
    return list(
        DeliveryAttempt.objects.filter(recipient_id__in=claimed, channel=channel).select_related(
            "recipient__contact",
            "recipient__campaign__sub_account",
            "recipient__campaign__template",
        )
    )


def retry_attempt(attempt_id: int) -> None:
    """Send an attempt again after a failure that the provider says left nothing sent."""
    attempt = DeliveryAttempt.objects.select_related(
        "recipient__contact", "recipient__campaign__sub_account", "recipient__campaign__template"
    ).get(pk=attempt_id)
    campaign = attempt.recipient.campaign
    if campaign.status == CampaignStatus.CANCELLED:
        _cancel_waiting_retry(attempt)
        return
    claimed = DeliveryAttempt.objects.filter(pk=attempt_id, status=AttemptStatus.RETRY_WAIT).update(
        status=AttemptStatus.SENDING, tries=attempt.tries + 1
    )
    if not claimed:
        logger.info("attempt %s is no longer waiting for a retry", attempt_id)
        return
    attempt.tries += 1
    attempt.status = AttemptStatus.SENDING
    logger.info("attempt %s: try %s", attempt_id, attempt.tries)
    send_all([attempt])


def send_all(attempts: list[DeliveryAttempt]) -> None:
    # Consent and quiet hours are checked at send time: routing happened at launch.
    attempts = send_gate.admit(attempts)
    if not attempts:
        return
    requests_to_send = [_request_for(attempt) for attempt in attempts]
    workers = max(1, min(settings.DISPATCH_CONCURRENCY, len(attempts)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="send") as pool:
        answers = list(pool.map(_call, requests_to_send))
    for attempt, answer in zip(attempts, answers, strict=True):
        _record(attempt, answer)


Answer = SendResult | ProviderError | ProviderUnreachable


def _call(request: Callable[[], SendResult]) -> Answer:
    try:
        return request()
    except (ProviderError, ProviderUnreachable) as exc:
        return exc


def _record(attempt: DeliveryAttempt, answer: Answer) -> None:
    try:
        if isinstance(answer, SendResult):
            outcomes.accepted(attempt, answer)
        elif isinstance(answer, ProviderError):
            logger.info("attempt %s rejected: %s %s", attempt.pk, answer.code, answer.title)
            outcomes.failed(attempt, outcomes.Failure(answer.code, answer.title, answer.detail))
        else:
            outcomes.unreachable(attempt, answer)
    except Exception:
        # One recipient's bookkeeping error must not stop the rest of the batch.
        logger.exception("attempt %s: recording the answer failed", attempt.pk)


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


def _cancel_waiting_retry(attempt: DeliveryAttempt) -> None:
    DeliveryAttempt.objects.filter(pk=attempt.pk, status=AttemptStatus.RETRY_WAIT).update(
        status=AttemptStatus.FAILED
    )
    in_flight = outcomes.IN_FLIGHT[Channel(attempt.channel)]
    if transitions.advance(
        attempt.recipient_id, in_flight, RecipientStatus.CANCELLED, reason="campaign_cancelled"
    ):
        transitions.record(attempt.recipient_id, "retry due", "not retried: campaign cancelled")
    transitions.finish_campaign_if_done(attempt.recipient.campaign_id)
