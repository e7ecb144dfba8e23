"""Twilio's webhooks, signed with the sub-account's auth token: status callbacks (one URL
per delivery attempt) and inbound messages (opt-out and opt-in keywords)."""

import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from ..events import INBOUND_SMS
from ..models import Channel, DeliveryAttempt, Provider, ProviderEvent
from ..optouts import sms_sub_accounts
from ..queue import enqueue_event_processing
from . import log_rejection, rejected

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = (
        DeliveryAttempt.objects.select_related("recipient__campaign__sub_account")
        .filter(pk=attempt_id)
        .first()
    )
    if not request.headers.get("X-Twilio-Signature"):
        log_rejection(
            logger, "twilio-signature", "Twilio status for attempt %s unsigned", attempt_id
        )
        return rejected(_bad_signature(request))
    if attempt is None or attempt.channel != Channel.SMS:
        # Without an SMS attempt there is no auth token to check the signature against.
        log_rejection(
            logger, "twilio-signature", "Twilio status for unknown SMS attempt %s", attempt_id
        )
        return rejected(f"no SMS delivery attempt {attempt_id}")
    if not signature_valid(request, attempt.recipient.campaign.sub_account.twilio_auth_token):
        log_rejection(
            logger,
            "twilio-signature",
            "Twilio status for attempt %s rejected: bad signature",
            attempt_id,
        )
        return rejected(_bad_signature(request))

    ProviderEvent.objects.create(
        provider=Provider.TWILIO,
        kind="status",
        attempt=attempt,
        body=request.body.decode("utf-8", errors="replace"),
    )
    enqueue_event_processing()
    return HttpResponse("ok")


@csrf_exempt
@require_POST
def twilio_inbound(request: HttpRequest) -> HttpResponse:
    """Store an inbound SMS to a sub-account's number and queue its keyword handling."""
    account_sid, to = request.POST.get("AccountSid", ""), request.POST.get("To", "")
    sub_accounts = sms_sub_accounts(account_sid, to)
    if not sub_accounts:
        # Without a sub-account for the number there is no token to check the signature.
        logger.warning(
            "Twilio inbound SMS rejected: no sub-account sends SMS from To=%r on AccountSid=%r",
            to,
            account_sid,
        )
        return rejected(f"no sub-account sends SMS from To={to!r} on AccountSid={account_sid!r}")
    if not any(signature_valid(request, s.twilio_auth_token) for s in sub_accounts):
        logger.warning("Twilio inbound SMS to %r on %r rejected: bad signature", to, account_sid)
        return rejected(_bad_signature(request))

    ProviderEvent.objects.create(
        provider=Provider.TWILIO,
        kind=INBOUND_SMS,
        body=request.body.decode("utf-8", errors="replace"),
    )
    enqueue_event_processing()
    # An empty TwiML document: Switchback sends no automatic reply of its own.
    return HttpResponse("<Response></Response>", content_type="text/xml")


def _bad_signature(request: HttpRequest) -> str:
    if not request.headers.get("X-Twilio-Signature"):
        return "missing X-Twilio-Signature header: Twilio signs every request with the auth token"
    return (
        "X-Twilio-Signature does not match: check the sub-account's Twilio auth token, and that "
        f"PUBLIC_BASE_URL gives the address Twilio calls ({request.build_absolute_uri()})"
    )


def signature_valid(request: HttpRequest, auth_token: str) -> bool:
    # The twilio package's validator also tries the URL with and without the default port,
    # as Twilio's own libraries do.
    validator = RequestValidator(auth_token)
    params = {key: request.POST.get(key) for key in request.POST}
    return validator.validate(
        request.build_absolute_uri(), params, request.headers.get("X-Twilio-Signature", "")
    )
