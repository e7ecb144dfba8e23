"""Checks made just before a message goes out, because launch-time routing can be hours
old: the contact may have opted out since, and SMS to US numbers waits out quiet hours."""

import logging

from django.utils import timezone

from campaigns import reasons, transitions
from campaigns.models import CampaignStatus

from . import outcomes, quiet_hours
from .models import AttemptStatus, Channel, DeliveryAttempt
from .queue import enqueue

logger = logging.getLogger(__name__)

# Attempts claimed but not yet handed to a provider: dispatch creates them "queued" and
# sending marks them "sending" just before the request.
NOT_YET_SENT = [AttemptStatus.QUEUED, AttemptStatus.SENDING]


def admit(attempts: list[DeliveryAttempt]) -> list[DeliveryAttempt]:
    """Return the attempts that may be sent now; end or defer the others."""
    admitted = []
    for attempt in attempts:
        withdrawn = consent_withdrawn(attempt)
        if withdrawn:
            outcomes.consent_withdrawn(attempt, withdrawn)
        elif not _deferred_for_quiet_hours(attempt):
            admitted.append(attempt)
    return admitted


def consent_withdrawn(attempt: DeliveryAttempt) -> str:
    """Return the opt-out reason if the contact opted out of the attempt's channel."""
    contact = attempt.recipient.contact
    if attempt.channel == Channel.WHATSAPP and contact.whatsapp_opt_out_at:
        return reasons.WHATSAPP_OPT_OUT
    if attempt.channel == Channel.SMS and contact.sms_opt_out_at:
        return reasons.SMS_OPT_OUT
    return ""


def send_deferred(attempt_id: int) -> None:
    """RQ job: send an SMS held back by quiet hours, unless the campaign was cancelled."""
    from .sending import send_batch

    attempt = DeliveryAttempt.objects.select_related(
        "recipient__contact", "recipient__campaign__sub_account", "recipient__campaign__template"
    ).get(pk=attempt_id)
    if attempt.recipient.campaign.status == CampaignStatus.CANCELLED:
        outcomes.cancelled_while_waiting(attempt)
        return
    claimed = DeliveryAttempt.objects.filter(pk=attempt_id, status=AttemptStatus.RETRY_WAIT).update(
        status=AttemptStatus.QUEUED, updated_at=timezone.now()
    )
    if not claimed:
        logger.info("attempt %s is no longer held for quiet hours", attempt_id)
        return
    attempt.status = AttemptStatus.QUEUED
    send_batch([attempt])


def _deferred_for_quiet_hours(attempt: DeliveryAttempt) -> bool:
    if attempt.channel != Channel.SMS:
        return False
    recipient = attempt.recipient
    now = timezone.now()
    send_at = quiet_hours.next_send_time(recipient.phone, recipient.campaign.sub_account, now)
    if send_at is None:
        return False
    local = send_at.strftime("%H:%M %Z")
    if not attempt.tries:
        # A first send goes back to "SMS waiting to send" until the window opens, so the
        # campaign shows what it waits for; dispatch claims it again then.
        from . import dispatch

        event = "SMS due during the recipient's quiet hours"
        action = f"held until {local} recipient local time, then sent"
        if dispatch.release([attempt], send_at, event, action):
            logger.info("attempt %s: SMS to a US number held until %s", attempt.pk, local)
            dispatch.note_wait(
                recipient.campaign_id,
                "SMS to US numbers wait for the recipients' quiet hours to end "
                "(they may get SMS from 08:00 to 21:00 local time)",
            )
        return True
    # A retry keeps its attempt row, which counts its tries.
    deferred = DeliveryAttempt.objects.filter(pk=attempt.pk, status__in=NOT_YET_SENT).update(
        status=AttemptStatus.RETRY_WAIT, updated_at=now
    )
    if not deferred:
        return True
    logger.info("attempt %s: SMS to a US number held for quiet hours until %s", attempt.pk, local)
    transitions.record(
        recipient.pk,
        "SMS due during the recipient's quiet hours",
        f"held until {local} recipient local time, then sent",
        rule="US quiet hours: SMS only inside the local send window",
    )
    enqueue(send_deferred, attempt.pk, delay=max((send_at - now).total_seconds(), 1.0))
    return True
