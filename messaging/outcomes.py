"""Apply a provider's report on a delivery attempt: accepted, delivered or failed.

The same functions serve the synchronous response to a send and the status webhooks that
arrive later, in any order and sometimes twice. Attempts and recipients move only forward
through conditional updates, so a repeated event finds nothing left to change.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone

from campaigns import reasons, transitions
from campaigns.models import (
    CampaignStatus,
    Contact,
    LineType,
    Recipient,
    RecipientStatus,
    Route,
)
from campaigns.routing import sms_blocker

from . import halts, outbound
from .backoff import retry_delay
from .models import AttemptStatus, Channel, DeliveryAttempt
from .policy import Action, Halt, Learn, Rule, classify
from .providers import SendResult
from .queue import enqueue, enqueue_dispatch

logger = logging.getLogger(__name__)

# Attempt statuses from which a provider's verdict may still move the attempt.
OPEN = [
    AttemptStatus.SENDING,
    AttemptStatus.RETRY_WAIT,
    AttemptStatus.UNKNOWN,
    AttemptStatus.ACCEPTED,
    AttemptStatus.SENT,
]
IN_FLIGHT = {
    Channel.WHATSAPP: [RecipientStatus.WHATSAPP_SENDING, RecipientStatus.WHATSAPP_SENT],
    Channel.SMS: [RecipientStatus.SMS_SENDING, RecipientStatus.SMS_SENT],
}


@dataclass(frozen=True)
class Failure:
    code: str
    title: str
    detail: str = ""


def accepted(attempt: DeliveryAttempt, result: SendResult) -> None:
    changed = DeliveryAttempt.objects.filter(pk=attempt.pk, status=AttemptStatus.SENDING).update(
        status=AttemptStatus.ACCEPTED,
        provider_message_id=result.provider_message_id,
        segments=result.segments,
        updated_at=timezone.now(),
    )
    if not changed:
        # A status webhook got here first and already moved the attempt on.
        DeliveryAttempt.objects.filter(pk=attempt.pk, provider_message_id="").update(
            provider_message_id=result.provider_message_id, segments=result.segments
        )
    sending, sent = IN_FLIGHT[Channel(attempt.channel)]
    transitions.advance(attempt.recipient_id, [sending], sent)


def unreachable(attempt: DeliveryAttempt, error: Exception) -> None:
    """Mark an attempt whose request got no response as unknown, and wait for its webhook."""
    DeliveryAttempt.objects.filter(pk=attempt.pk, status=AttemptStatus.SENDING).update(
        status=AttemptStatus.UNKNOWN, error_detail=str(error)[:500], updated_at=timezone.now()
    )
    logger.warning("attempt %s (%s) got no response: %s", attempt.pk, attempt.channel, error)
    transitions.record(
        attempt.recipient_id,
        f"{attempt.get_channel_display()} request got no response",
        "waiting for the provider's status webhook; not sending again",
        rule="a lost answer may mean sent",
    )


def outcome_unknown(attempt: DeliveryAttempt, waited: float) -> None:
    """End the recipient of an attempt marked unknown, so that its campaign can complete.

    Nothing is sent again on any channel, because the message may have arrived. A late
    delivered status still moves the recipient to delivered (see
    whatsapp_delivered_after_fallback and _sms_delivered).
    """
    channel = Channel(attempt.channel)
    # NOTE: a direct SMS (no WhatsApp attempt) also ends as failed_both here, because there
    # is no SMS-only failure status. Its reason records what happened.
    final = (
        RecipientStatus.FAILED_WHATSAPP
        if channel == Channel.WHATSAPP
        else RecipientStatus.FAILED_BOTH
    )
    transitions.advance(
        attempt.recipient_id, IN_FLIGHT[channel], final, reason=reasons.OUTCOME_UNKNOWN
    )
    transitions.record(
        attempt.recipient_id,
        f"no answer and no status webhook for {waited:.0f} s",
        "marked unknown; not sent again, a late webhook still counts",
        reasons.OUTCOME_UNKNOWN,
        "a lost answer may mean sent",
    )
    transitions.finish_campaign_if_done(_campaign_id(attempt.recipient_id))


def sent(attempt: DeliveryAttempt) -> None:
    DeliveryAttempt.objects.filter(
        pk=attempt.pk,
        status__in=[AttemptStatus.SENDING, AttemptStatus.UNKNOWN, AttemptStatus.ACCEPTED],
    ).update(status=AttemptStatus.SENT, updated_at=timezone.now())
    sending, sent_status = IN_FLIGHT[Channel(attempt.channel)]
    transitions.advance(attempt.recipient_id, [sending], sent_status)


def delivered(attempt: DeliveryAttempt, status: str = AttemptStatus.DELIVERED) -> None:
    if attempt.channel == Channel.WHATSAPP:
        _whatsapp_delivered(attempt, status)
    else:
        _sms_delivered(attempt)


def failed(attempt: DeliveryAttempt, failure: Failure) -> None:
    """Apply a provider's failure verdict, synchronous or by webhook."""
    rule = classify(attempt.channel, failure.code, _sub_account_id(attempt.recipient_id))
    if rule.action == Action.RETRY and attempt.tries <= rule.max_retries:
        _schedule_retry(attempt, failure, rule)
        return
    if rule.action == Action.RETRY:
        rule = Rule(rule.exhausted, f"{rule.description}; retries exhausted", halt=rule.halt)

    changed = DeliveryAttempt.objects.filter(pk=attempt.pk, status__in=OPEN).update(
        status=AttemptStatus.FAILED,
        error_code=failure.code[:16],
        error_title=failure.title[:255],
        error_detail=failure.detail[:2000],
        updated_at=timezone.now(),
    )
    if not changed:
        logger.info("attempt %s: repeated or late failure %s ignored", attempt.pk, failure.code)
        return

    recipient = _recipient(attempt)
    _learn(recipient.contact, rule, failure.code)
    _halt(recipient, rule, failure.code)
    if attempt.channel == Channel.WHATSAPP:
        _after_whatsapp_failure(recipient, rule, failure)
    else:
        _after_sms_failure(recipient, failure)
    transitions.finish_campaign_if_done(recipient.campaign_id)


def consent_withdrawn(attempt: DeliveryAttempt, reason: str) -> None:
    """End an attempt not yet sent because the contact opted out of its channel since launch.

    WhatsApp opt-out: the SMS text goes instead where SMS is possible, else the recipient is
    skipped. SMS opt-out: a fallback ends as "no fallback possible", a direct SMS as skipped.
    """
    not_yet_sent = [AttemptStatus.QUEUED, AttemptStatus.SENDING]
    changed = DeliveryAttempt.objects.filter(pk=attempt.pk, status__in=not_yet_sent).update(
        status=AttemptStatus.FAILED,
        error_code=reason[:16],
        error_title="not sent: the contact opted out",
        updated_at=timezone.now(),
    )
    if not changed:
        return
    recipient = _recipient(attempt)
    event = f"{attempt.get_channel_display()} due, but the contact opted out"
    if attempt.channel == Channel.WHATSAPP:
        _whatsapp_consent_withdrawn(recipient, reason, event)
    elif recipient.fallback_triggered:
        _no_fallback(recipient, IN_FLIGHT[Channel.SMS], recipient.reason, reason, event)
    else:
        transitions.advance(
            recipient.pk, IN_FLIGHT[Channel.SMS], RecipientStatus.SKIPPED, reason=reason
        )
        transitions.record(recipient.pk, event, f"skipped: {reasons.describe(reason)}", reason)
    logger.info("attempt %s not sent: %s", attempt.pk, reason)
    transitions.finish_campaign_if_done(recipient.campaign_id)


def cancelled_while_waiting(attempt: DeliveryAttempt) -> None:
    """End an attempt held back (retry or quiet hours) whose campaign was cancelled meanwhile."""
    DeliveryAttempt.objects.filter(pk=attempt.pk, status=AttemptStatus.RETRY_WAIT).update(
        status=AttemptStatus.FAILED, updated_at=timezone.now()
    )
    in_flight = IN_FLIGHT[Channel(attempt.channel)]
    if transitions.advance(
        attempt.recipient_id,
        in_flight,
        RecipientStatus.CANCELLED,
        reason=reasons.CAMPAIGN_CANCELLED,
    ):
        transitions.record(
            attempt.recipient_id,
            f"{attempt.get_channel_display()} send due",
            "not sent: campaign cancelled",
        )
    transitions.finish_campaign_if_done(_campaign_id(attempt.recipient_id))


def _whatsapp_consent_withdrawn(recipient: Recipient, reason: str, event: str) -> None:
    campaign = recipient.campaign
    in_flight = IN_FLIGHT[Channel.WHATSAPP]
    blocker = reasons.FALLBACK_OFF if not campaign.fallback_enabled else ""
    blocker = blocker or sms_blocker(recipient.contact, campaign)
    if blocker:
        transitions.advance(
            recipient.pk, in_flight, RecipientStatus.SKIPPED, reason=reasons.NO_CONSENT
        )
        transitions.record(
            recipient.pk, event, f"skipped: {reasons.describe(blocker)}", reason, "consent"
        )
        return
    if transitions.advance(
        recipient.pk,
        in_flight,
        RecipientStatus.SMS_PENDING,
        route=Route.DIRECT_SMS,
        reason=reason,
    ):
        transitions.record(recipient.pk, event, "SMS queued instead", reason, "consent")
        enqueue_dispatch(campaign.pk)


def _no_fallback(
    recipient: Recipient, from_statuses: Sequence[str], first: str, blocker: str, event: str
) -> None:
    transitions.advance(
        recipient.pk, from_statuses, RecipientStatus.FAILED_WHATSAPP, reason=f"{first}/{blocker}"
    )
    transitions.record(
        recipient.pk, event, f"no fallback possible: {reasons.describe(blocker)}", blocker
    )


def _whatsapp_delivered(attempt: DeliveryAttempt, status: str) -> None:
    already = (
        [AttemptStatus.READ]
        if status == AttemptStatus.READ
        else [AttemptStatus.DELIVERED, AttemptStatus.READ]
    )
    # A delivered after a failed still counts: the message did arrive.
    changed = (
        DeliveryAttempt.objects.filter(pk=attempt.pk)
        .exclude(status__in=already)
        .update(status=status, delivered_at=timezone.now(), updated_at=timezone.now())
    )
    if not changed:
        return
    recipient_id = attempt.recipient_id
    if transitions.advance(
        recipient_id, IN_FLIGHT[Channel.WHATSAPP], RecipientStatus.DELIVERED_WHATSAPP
    ):
        transitions.record(recipient_id, f"WhatsApp {status}", "done: delivered on WhatsApp")
    else:
        whatsapp_delivered_after_fallback(recipient_id, status)
    transitions.finish_campaign_if_done(_campaign_id(recipient_id))


def whatsapp_delivered_after_fallback(recipient_id: int, status: str) -> None:
    """Apply a WhatsApp delivery to a recipient whose fallback SMS was queued or sent:
    drop the SMS if no dispatch claimed it yet, else count the recipient as delivered on
    both channels."""
    if revive_unknown(recipient_id, RecipientStatus.FAILED_WHATSAPP):
        transitions.record(
            recipient_id,
            f"WhatsApp {status} after the outcome was marked unknown",
            "done: delivered on WhatsApp",
        )
    elif _drop_unsent_fallback(recipient_id):
        transitions.record(
            recipient_id,
            f"WhatsApp {status} before the fallback SMS went out",
            "done: delivered on WhatsApp; the SMS is not sent",
        )
    elif Recipient.objects.filter(
        pk=recipient_id, fallback_triggered=True, delivered_both=False
    ).update(delivered_both=True):
        transitions.record(
            recipient_id,
            f"WhatsApp {status} after the fallback SMS was sent",
            "recorded as delivered on both channels",
        )


def revive_unknown(recipient_id: int, final: str) -> bool:
    """Move a recipient ended as "outcome unknown" to delivered on the attempt's channel;
    returns whether it did."""
    delivered = (
        RecipientStatus.DELIVERED_WHATSAPP
        if final == RecipientStatus.FAILED_WHATSAPP
        else RecipientStatus.DELIVERED_SMS
    )
    return bool(
        Recipient.objects.filter(
            pk=recipient_id, status=final, reason=reasons.OUTCOME_UNKNOWN
        ).update(status=delivered, reason="", updated_at=timezone.now())
    )


def _drop_unsent_fallback(recipient_id: int) -> bool:
    """End a recipient whose fallback SMS no dispatch has claimed yet as delivered on
    WhatsApp; returns whether it did. The claim and this update are both conditional on
    sms_pending, so either the SMS goes out or this wins, never both."""
    now = timezone.now()
    changed = Recipient.objects.filter(
        pk=recipient_id, status=RecipientStatus.SMS_PENDING, fallback_triggered=True
    ).update(
        status=RecipientStatus.DELIVERED_WHATSAPP,
        fallback_triggered=False,
        reason="",
        finished_at=now,
        updated_at=now,
    )
    if changed:
        outbound.recipient_final(recipient_id)
    return bool(changed)


def _sms_delivered(attempt: DeliveryAttempt) -> None:
    changed = DeliveryAttempt.objects.filter(pk=attempt.pk, status__in=OPEN).update(
        status=AttemptStatus.DELIVERED, delivered_at=timezone.now(), updated_at=timezone.now()
    )
    if not changed:
        return
    recipient_id = attempt.recipient_id
    if transitions.advance(
        recipient_id, IN_FLIGHT[Channel.SMS], RecipientStatus.DELIVERED_SMS
    ) or revive_unknown(recipient_id, RecipientStatus.FAILED_BOTH):
        transitions.record(recipient_id, "SMS delivered", "done: delivered by SMS")
    transitions.finish_campaign_if_done(_campaign_id(recipient_id))


def _after_whatsapp_failure(recipient: Recipient, rule: Rule, failure: Failure) -> None:
    campaign = recipient.campaign
    event = f"WhatsApp failed: {failure.title}"
    in_flight = IN_FLIGHT[Channel.WHATSAPP]

    if campaign.status == CampaignStatus.CANCELLED:
        transitions.advance(
            recipient.pk,
            in_flight,
            RecipientStatus.CANCELLED,
            reason=f"{failure.code}/{reasons.CAMPAIGN_CANCELLED}",
        )
        transitions.record(
            recipient.pk, event, "no fallback: campaign cancelled", failure.code, rule.description
        )
        return
    if rule.action != Action.FALLBACK:
        transitions.advance(
            recipient.pk, in_flight, RecipientStatus.FAILED_WHATSAPP, reason=failure.code
        )
        transitions.record(
            recipient.pk,
            event,
            "stopped: this error does not fall back",
            failure.code,
            rule.description,
        )
        return

    blocker = reasons.FALLBACK_OFF if not campaign.fallback_enabled else ""
    blocker = blocker or sms_blocker(recipient.contact, campaign)
    if blocker:
        transitions.advance(
            recipient.pk,
            in_flight,
            RecipientStatus.FAILED_WHATSAPP,
            reason=f"{failure.code}/{blocker}",
        )
        transitions.record(
            recipient.pk,
            event,
            f"no fallback possible: {reasons.describe(blocker)}",
            failure.code,
            rule.description,
        )
        return

    if transitions.advance(
        recipient.pk,
        in_flight,
        RecipientStatus.SMS_PENDING,
        reason=failure.code,
        fallback_triggered=True,
    ):
        transitions.record(
            recipient.pk, event, "fallback SMS queued", failure.code, rule.description
        )
        enqueue_dispatch(campaign.pk)


def _after_sms_failure(recipient: Recipient, failure: Failure) -> None:
    first_reason = recipient.reason or reasons.US_MARKETING
    transitions.advance(
        recipient.pk,
        IN_FLIGHT[Channel.SMS],
        RecipientStatus.FAILED_BOTH,
        reason=f"{first_reason}/{failure.code}",
    )
    rule = classify(Channel.SMS, failure.code, recipient.campaign.sub_account_id)
    transitions.record(
        recipient.pk,
        f"SMS failed: {failure.title}",
        "stopped: both channels failed, nothing is retried",
        failure.code,
        rule.description,
    )


def _schedule_retry(attempt: DeliveryAttempt, failure: Failure, rule: Rule) -> None:
    changed = DeliveryAttempt.objects.filter(pk=attempt.pk, status__in=OPEN).update(
        status=AttemptStatus.RETRY_WAIT,
        error_code=failure.code[:16],
        error_title=failure.title[:255],
        updated_at=timezone.now(),
    )
    if not changed:
        return
    delay = retry_delay(failure.code, attempt.tries)
    logger.info(
        "attempt %s: %s, retry %s of %s in %.1f s",
        attempt.pk,
        failure.code,
        attempt.tries,
        rule.max_retries,
        delay,
    )
    transitions.record(
        attempt.recipient_id,
        f"{attempt.get_channel_display()} failed: {failure.title}",
        f"retry {attempt.tries} of {rule.max_retries} in {delay:.0f} s",
        failure.code,
        rule.description,
    )
    from .dispatch import retry_attempt

    enqueue(retry_attempt, attempt.pk, delay=delay)


def _learn(contact: Contact, rule: Rule, code: str) -> None:
    if rule.learn == Learn.WHATSAPP_UNREACHABLE:
        contact.whatsapp_unreachable_at = timezone.now()
    elif rule.learn == Learn.WHATSAPP_OPT_OUT:
        contact.opt_out("whatsapp", code)
    elif rule.learn == Learn.SMS_OPT_OUT:
        contact.opt_out("sms", code)
    elif rule.learn == Learn.LANDLINE:
        contact.line_type = LineType.LANDLINE
    else:
        return
    contact.save()
    logger.info("contact %s: learned %s from %s", contact.pk, rule.learn, code)


def _halt(recipient: Recipient, rule: Rule, code: str) -> None:
    if rule.halt == Halt.TEMPLATE:
        status = halts.STATUS_FOR_CODE.get(code, "PAUSED")
        halts.halt_template(recipient.campaign.template_id, status, code)
    elif rule.halt == Halt.CAMPAIGN:
        halts.pause_campaign(recipient.campaign_id, f"{code}: {rule.description}")


def _recipient(attempt: DeliveryAttempt) -> Recipient:
    return Recipient.objects.select_related(
        "contact", "campaign__sub_account", "campaign__template"
    ).get(pk=attempt.recipient_id)


def _sub_account_id(recipient_id: int) -> int:
    return Recipient.objects.values_list("campaign__sub_account_id", flat=True).get(pk=recipient_id)


def _campaign_id(recipient_id: int) -> int:
    return Recipient.objects.values_list("campaign_id", flat=True).get(pk=recipient_id)
