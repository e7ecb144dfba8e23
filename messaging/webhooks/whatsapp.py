"""Meta's WhatsApp webhook: the GET verification handshake and signed POSTs of events."""

import hashlib
import hmac
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from ..models import Provider, ProviderEvent
from ..queue import enqueue_event_processing
from . import log_rejection, rejected

logger = logging.getLogger(__name__)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def whatsapp_webhook(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _verify_subscription(request)

    header = request.headers.get("X-Hub-Signature-256", "")
    if not signature_valid(request.body, header):
        log_rejection(
            logger,
            "whatsapp-signature",
            "WhatsApp webhook rejected: missing or wrong signature; check that "
            "META_APP_SECRET is the app secret Meta signs with",
        )
        if not header:
            return rejected(
                "missing X-Hub-Signature-256 header: Meta signs every webhook with the app secret"
            )
        return rejected(
            "X-Hub-Signature-256 does not match the body: sign the raw body with HMAC-SHA256 "
            "and the app secret, as 'sha256=<hex>'"
        )

    ProviderEvent.objects.create(
        provider=Provider.META, body=request.body.decode("utf-8", errors="replace")
    )
    enqueue_event_processing()
    # Meta retries anything but a 200 for days, so respond fast and process in the job.
    return HttpResponse("ok")


def signature_valid(body: bytes, header: str) -> bool:
    expected = hmac.new(settings.META_APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"sha256={expected}", header)


def _verify_subscription(request: HttpRequest) -> HttpResponse:
    mode = request.GET.get("hub.mode")
    token = request.GET.get("hub.verify_token", "")
    if mode == "subscribe" and hmac.compare_digest(token, settings.META_VERIFY_TOKEN):
        return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
    logger.warning("WhatsApp webhook verification failed (mode %r)", mode)
    return rejected("verification failed")
