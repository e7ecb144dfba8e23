"""Outbound webhooks: tell a sub-account's integrations about outcomes without polling.

Events are stored as WebhookDelivery rows in the transaction that caused them and sent by
RQ jobs after commit. Each body is signed with the endpoint's secret:

    X-Switchback-Timestamp: <unix seconds>
    X-Switchback-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">

The timestamp is inside the signed text, so a receiver that rejects old timestamps (five
minutes is usual) cannot be fed a captured request again. A failed send is retried with
exponential backoff; the row records every try.
"""

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import requests
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import F
from django.utils import timezone

from campaigns import reasons
from campaigns.models import Campaign, Recipient

from . import webhook_targets
from .models import DeliveryStatus, OutboundEvent, WebhookDelivery, WebhookEndpoint
from .queue import enqueue

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Switchback-Signature"
TIMESTAMP_HEADER = "X-Switchback-Timestamp"
TIMEOUT_SECONDS = 10
# Maximum wait between two tries. The defaults (6 tries, doubling from 30 s) give up after
# about 16 minutes; the cap matters only when OUTBOUND_WEBHOOK_TRIES is raised.
MAX_BACKOFF_SECONDS = 6 * 3600


def sign(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def emit(sub_account_id: int, event: str, payload: dict[str, Any]) -> int:
    """Store one delivery per endpoint that wants the event and queue it; return how many."""
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(sub_account_id=sub_account_id, active=True)
        if endpoint.wants(event)
    ]
    for endpoint in endpoints:
        delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event, payload=payload)
        enqueue(deliver, delivery.pk)
        logger.info(
            "webhook delivery %s (%s) queued for endpoint %s", delivery.pk, event, endpoint.pk
        )
    return len(endpoints)


def recipient_final(recipient_id: int) -> None:
    """Send recipient.final for a recipient that reached a final status (hook of
    campaigns.transitions.advance)."""
    # One query on the hot path when the sub-account has no endpoint, which is the usual case.
    listening = WebhookEndpoint.objects.filter(
        sub_account__campaigns__recipients=recipient_id, active=True
    )
    if not listening.exists():
        return
    recipient = (
        Recipient.objects.select_related("campaign")
        .prefetch_related("attempts")
        .filter(pk=recipient_id)
        .first()
    )
    if recipient is None:
        return
    payload = _recipient_payload(recipient)
    emit(recipient.campaign.sub_account_id, OutboundEvent.RECIPIENT_FINAL, payload)


def listens(sub_account_id: int, event: str) -> bool:
    """Return whether an active endpoint of the sub-account wants the event."""
    endpoints = WebhookEndpoint.objects.filter(sub_account_id=sub_account_id, active=True)
    return any(endpoint.wants(event) for endpoint in endpoints)


def recipients_final(campaign_id: int, recipient_ids: list[int]) -> int:
    """Send recipient.final for recipients that one bulk write made final (skipped at launch,
    cancelled with the campaign); return how many deliveries were stored.

    Each recipient still gets its own event, but the deliveries are inserted together
    and sent by one job, because a launch or a cancel ends thousands of recipients at once.
    """
    campaign = Campaign.objects.filter(pk=campaign_id).only("sub_account_id").first()
    if campaign is None or not recipient_ids:
        return 0
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(
            sub_account_id=campaign.sub_account_id, active=True
        )
        if endpoint.wants(OutboundEvent.RECIPIENT_FINAL)
    ]
    if not endpoints:
        return 0

    recipients = (
        Recipient.objects.filter(campaign_id=campaign_id, pk__in=recipient_ids)
        .select_related("campaign")
        .prefetch_related("attempts")
        .order_by("id")
    )
    payloads = [_recipient_payload(recipient) for recipient in recipients]
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint=endpoint, event=OutboundEvent.RECIPIENT_FINAL, payload=payload)
        for payload in payloads
        for endpoint in endpoints
    )
    # bulk_create sets primary keys on PostgreSQL and SQLite, the two supported databases.
    delivery_ids = [delivery.pk for delivery in deliveries]
    enqueue(deliver_batch, delivery_ids)
    logger.info(
        "campaign %s: %s recipient.final deliveries queued in one job for endpoints %s",
        campaign_id,
        len(delivery_ids),
        [endpoint.pk for endpoint in endpoints],
    )
    return len(delivery_ids)


def _recipient_payload(recipient: Recipient) -> dict[str, Any]:
    payload = {
        "campaign": recipient.campaign_id,
        "recipient": recipient.pk,
        "contact": recipient.contact_id,
        "phone": recipient.phone,
        "route": recipient.route,
        "outcome": recipient.status,
        "reason": recipient.reason,
        "reason_text": reasons.describe(recipient.reason) if recipient.reason else "",
        "fallback_triggered": recipient.fallback_triggered,
        "attempts": [
            {
                "channel": attempt.channel,
                "status": attempt.status,
                "error_code": attempt.error_code,
                "error_text": reasons.describe(attempt.error_code) if attempt.error_code else "",
            }
            for attempt in recipient.attempts.all()
        ],
        "finished_at": recipient.finished_at,
    }
    return _plain(payload)


def campaign_completed(campaign_id: int) -> None:
    """Send campaign.completed with the campaign's report (hook of
    campaigns.transitions.finish_campaign_if_done)."""
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        return
    if not WebhookEndpoint.objects.filter(
        sub_account_id=campaign.sub_account_id, active=True
    ).exists():
        return
    from campaigns.api.campaigns import campaign_report

    payload = {
        "campaign": campaign.pk,
        "name": campaign.name,
        "status": campaign.status,
        "finished_at": campaign.finished_at,
        "report": campaign_report(campaign),
    }
    emit(campaign.sub_account_id, OutboundEvent.CAMPAIGN_COMPLETED, _plain(payload))


def deliver_batch(delivery_ids: list[int]) -> None:
    """RQ job: send several events one after another over one HTTP session; each failed
    one is retried on its own, as deliver() does."""
    # NOTE: a receiver that times out on every request holds this job for
    # TIMEOUT_SECONDS per delivery; the retries then run as one job each.
    with requests.Session() as session:
        for delivery_id in delivery_ids:
            _deliver(delivery_id, session.post)


def deliver(delivery_id: int) -> None:
    """RQ job: send one event; on failure queue the next try after a growing delay."""
    _deliver(delivery_id, requests.post)


def _deliver(delivery_id: int, post: Callable[..., requests.Response]) -> None:
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return
    endpoint = delivery.endpoint
    body = json.dumps(
        {
            "id": str(delivery.event_id),
            "event": delivery.event,
            "created_at": delivery.created_at.isoformat(),
            "data": delivery.payload,
        },
        separators=(",", ":"),
    ).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Switchback-Webhooks/1",
        "X-Switchback-Event": delivery.event,
        "X-Switchback-Delivery": str(delivery.event_id),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(endpoint.secret, timestamp, body),
    }
    try:
        webhook_targets.check_resolved(endpoint.url)
    except webhook_targets.UnsafeTarget as exc:
        # Permanent until the endpoint's URL changes, so no retry is queued.
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.FAILED,
            attempts=F("attempts") + 1,
            last_attempt_at=timezone.now(),
            last_error=str(exc)[:1000],
        )
        logger.warning(
            "webhook delivery %s to endpoint %s not sent: %s", delivery.pk, endpoint.pk, exc
        )
        return

    status_code: int | None = None
    error = ""
    try:
        response = post(
            endpoint.url, data=body, headers=headers, timeout=TIMEOUT_SECONDS, allow_redirects=False
        )
        status_code = response.status_code
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}: {response.text[:500]}"
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:1000]

    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        attempts=F("attempts") + 1, last_attempt_at=timezone.now(), response_status=status_code
    )
    delivery.refresh_from_db()
    if not error:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.DELIVERED, delivered_at=timezone.now(), last_error=""
        )
        logger.info("webhook delivery %s delivered to endpoint %s", delivery.pk, endpoint.pk)
        return
    if delivery.attempts >= settings.OUTBOUND_WEBHOOK_TRIES:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.FAILED, last_error=error
        )
        logger.warning(
            "webhook delivery %s to endpoint %s failed after %s tries: %s",
            delivery.pk,
            endpoint.pk,
            delivery.attempts,
            error,
        )
        return
    delay = min(
        MAX_BACKOFF_SECONDS,
        settings.OUTBOUND_WEBHOOK_BACKOFF_SECONDS * 2 ** (delivery.attempts - 1),
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(last_error=error)
    logger.info(
        "webhook delivery %s to endpoint %s failed (try %s), retry in %.0f s: %s",
        delivery.pk,
        endpoint.pk,
        delivery.attempts,
        delay,
        error,
    )
    enqueue(deliver, delivery.pk, delay=delay)


def _plain(payload: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
