"""Twilio's webhooks, signed with the sub-account's auth token: status callbacks (one URL
per delivery attempt) and inbound messages (opt-out and opt-in keywords)."""

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from ..events import INBOUND_SMS
from ..models import DeliveryAttempt, Provider, ProviderEvent
from ..optouts import sms_sub_accounts
from ..queue import enqueue_event_processing
from . import log_rejection

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = (
        DeliveryAttempt.objects.select_related("recipient__campaign__sub_account")
        .filter(pk=attempt_id)
        .first()
    )
    token = attempt.recipient.campaign.sub_account.twilio_auth_token if attempt else ""
    if not token or not signature_valid(request, token):
        # Without a known attempt there is no token to check the signature against.
        log_rejection(
            logger,
            "twilio-signature",
            "Twilio status for attempt %s rejected: unknown attempt or bad signature",
            attempt_id,
        )
        return HttpResponseForbidden("invalid signature")

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
    if not any(signature_valid(request, s.twilio_auth_token) for s in sub_accounts):
        # Without a sub-account for the number there is no token to check the signature.
        logger.warning(
            "Twilio inbound SMS to %s on %s rejected: unknown number or bad signature",
            to,
            account_sid,
        )
        return HttpResponseForbidden("invalid signature")

    ProviderEvent.objects.create(
        provider=Provider.TWILIO,
        kind=INBOUND_SMS,
        body=request.body.decode("utf-8", errors="replace"),
    )
    enqueue_event_processing()
    # An empty TwiML document: Switchback sends no automatic reply of its own.
    return HttpResponse("<Response></Response>", content_type="text/xml")


def signature_valid(request: HttpRequest, auth_token: str) -> bool:
    # The twilio package's validator also tries the URL with and without the default port,
    # as Twilio's own libraries do.
    validator = RequestValidator(auth_token)
    params = {key: request.POST.get(key) for key in request.POST}
    return validator.validate(
        request.build_absolute_uri(), params, request.headers.get("X-Twilio-Signature", "")
    )
