"""Twilio's status callbacks, one URL per delivery attempt, signed with the account's token."""

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from ..events import process_twilio_event
from ..models import DeliveryAttempt, Provider, ProviderEvent
from ..queue import enqueue
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

    event = ProviderEvent.objects.create(
        provider=Provider.TWILIO,
        kind="status",
        attempt=attempt,
        body=request.body.decode("utf-8", errors="replace"),
    )
    enqueue(process_twilio_event, event.pk)
    return HttpResponse("ok")


def signature_valid(request: HttpRequest, auth_token: str) -> bool:
    # The twilio package's validator also tries the URL with and without the default port,
    # as Twilio's own libraries do.
    validator = RequestValidator(auth_token)
    params = {key: request.POST.get(key) for key in request.POST}
    return validator.validate(
        request.build_absolute_uri(), params, request.headers.get("X-Twilio-Signature", "")
    )
