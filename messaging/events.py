"""RQ jobs that process stored provider events.

Webhook views store each POST as a ProviderEvent and queue process_pending_events, which
applies every unprocessed event in batches, one drain at a time. Message statuses, most
of the traffic, are applied in bulk: sent, delivered and read of both providers (see
messaging.status_batch) and WhatsApp failures that fall back to SMS (see
messaging.fallback_batch). Every other event is applied on its own, each status separately,
so one bad or unknown status does not lose the others. What could not be applied is
written on the event row, where staff see it.
"""

import json
import logging
from collections import defaultdict
from typing import Any
from urllib.parse import parse_qs

from django.db import transaction
from django.db.models import BigIntegerField, Case, F, Q, When
from django.utils import timezone
from redis.exceptions import LockError

from . import fallback_batch, optouts, outcomes, status_batch
from .models import AttemptStatus, Channel, DeliveryAttempt, Provider, ProviderEvent
from .queue import EVENTS, clear_events_flag, enqueue, redis
from .template_events import apply_category_update, apply_template_event

logger = logging.getLogger(__name__)

CALLBACK_PREFIX = "attempt:"
SMS_DELIVERED = {"delivered", "read"}
SMS_FAILED = {"failed", "undelivered", "canceled"}
SMS_PROGRESS = {"queued", "sending", "sent", "accepted", "scheduled"}
# ProviderEvent.kind of a Twilio inbound SMS; its keyword handling sets the rest.
INBOUND_SMS = "inbound_sms"

# WhatsApp statuses applied in bulk; any other status takes the path of its whole event.
BULK_STATUSES = (*status_batch.BULK_STATUSES, "failed")
EVENT_BATCH_SIZE = 200
# Only one drain applies events at a time, so two batch transactions never lock the same
# attempts in opposite orders. The lock expires if its holder dies; each batch renews it.
DRAIN_LOCK = "switchback:events-drain"
DRAIN_RETRY = "switchback:events-drain-retry"
DRAIN_LOCK_SECONDS = 10


def process_pending_events() -> int:
    """Apply the stored events that are not processed yet, oldest first, until none is
    left; returns how many were processed."""
    # From here on, a new event needs a new job: this one may already be past it.
    clear_events_flag()
    lock = redis().lock(DRAIN_LOCK, timeout=DRAIN_LOCK_SECONDS)
    failed: set[int] = set()
    processed = 0
    while True:
        if not lock.acquire(blocking=False):
            # The drain holding the lock looks for new events after releasing it. In case
            # it died instead, one check is queued for when its lock has expired.
            logger.debug("another drain is applying events")
            if lock.redis.set(DRAIN_RETRY, 1, nx=True, ex=DRAIN_LOCK_SECONDS):
                enqueue(process_pending_events, delay=DRAIN_LOCK_SECONDS, queue_name=EVENTS)
            return processed
        try:
            while batch := _pending(failed, EVENT_BATCH_SIZE):
                processed += _process_batch(batch, failed)
                lock.reacquire()
        finally:
            try:
                lock.release()
            except LockError:
                logger.warning("the event drain lock expired before the drain released it")
        if not _pending(failed, 1):
            if processed:
                logger.info("event drain stopped after %s events", processed)
            return processed


def _pending(failed: set[int], limit: int) -> list[ProviderEvent]:
    pending = ProviderEvent.objects.filter(processed_at__isnull=True).exclude(pk__in=failed)
    return list(pending.select_related("attempt").order_by("pk")[:limit])


def _process_batch(events: list[ProviderEvent], failed: set[int]) -> int:
    try:
        with transaction.atomic():
            _apply_batch(events, failed)
        return len(events)
    except Exception:
        logger.exception(
            "batch of events %s to %s failed; applying them one by one",
            events[0].pk,
            events[-1].pk,
        )
    for event in events:
        try:
            _process(event)
        except Exception:
            # Left unprocessed for the sweeper to queue again; staff see it in the admin.
            logger.exception("provider event %s could not be processed", event.pk)
            failed.add(event.pk)
    return len(events) - len(failed)


def _apply_batch(events: list[ProviderEvent], failed: set[int]) -> None:
    bulk: dict[ProviderEvent, list[dict[str, Any]]] = {}
    sms: dict[ProviderEvent, str] = {}
    for event in events:
        statuses = _bulk_statuses(event)
        if statuses is not None:
            bulk[event] = statuses
            continue
        sms_status = _bulk_sms_status(event)
        if sms_status is not None:
            sms[event] = sms_status
            continue
        try:
            # A savepoint, so that one event's database error does not end the batch.
            with transaction.atomic():
                _process(event)
        except Exception:
            logger.exception("provider event %s could not be processed", event.pk)
            failed.add(event.pk)
    by_name: dict[str, list[DeliveryAttempt]] = defaultdict(list)
    for event, name in sms.items():
        assert event.attempt is not None  # _bulk_sms_status checked it
        by_name[name].append(event.attempt)
    failures: list[fallback_batch.Failure] = []
    problems = _match_statuses(bulk, by_name, failures)
    status_batch.apply_sent(by_name["sent"])
    # Before deliveries, the order the one-by-one path follows for a message reported
    # failed and then delivered.
    fallback_batch.apply_failed(failures)
    status_batch.apply(by_name)

    clean = [event for event in bulk if event not in problems]
    ProviderEvent.objects.filter(pk__in=[event.pk for event in clean]).update(
        kind="messages", processed_at=timezone.now(), attempt=_attempt_links(clean)
    )
    for event, found in problems.items():
        _finish(event, "messages", found)
    # Twilio status events keep the kind "status" their view stored.
    ProviderEvent.objects.filter(pk__in=[event.pk for event in sms]).update(
        processed_at=timezone.now()
    )


def _match_statuses(
    bulk: dict[ProviderEvent, list[dict[str, Any]]],
    by_name: dict[str, list[DeliveryAttempt]],
    failures: list[fallback_batch.Failure],
) -> dict[ProviderEvent, list[str]]:
    """Add the attempts of the WhatsApp statuses to by_name, and failed ones to failures;
    returns the problems found, by event."""
    attempts = _find_attempts([status for statuses in bulk.values() for status in statuses])
    problems: dict[ProviderEvent, list[str]] = {}
    for event, statuses in bulk.items():
        matched = [attempts.get(_status_key(status)) for status in statuses]
        event.attempt = _single_attempt(matched)
        for status, attempt in zip(statuses, matched, strict=True):
            if attempt is None:
                problems.setdefault(event, []).append(
                    f"{status.get('id')}: no matching delivery attempt"
                )
            elif status["status"] == "failed":
                failures.append((attempt, _failure(status)))
            else:
                by_name[status["status"]].append(attempt)
    return problems


def _single_attempt(matched: list[DeliveryAttempt | None]) -> DeliveryAttempt | None:
    """Return the attempt that every status of one event matched, or None when a status
    matched none or the statuses matched several attempts.

    A Meta event is linked to this attempt. The link also shows the event to the attempt's
    agency in the admin, so an event that carries other messages' statuses stays unlinked.
    """
    if not matched or None in matched:
        return None
    if len({attempt.pk for attempt in matched if attempt is not None}) > 1:
        return None
    return matched[0]


def _attempt_links(events: list[ProviderEvent]) -> Case:
    """Return the attempt column's new value for one UPDATE of all the events: the attempt
    set on each event in memory, or the stored one where none is set."""
    linked = [When(pk=event.pk, then=event.attempt.pk) for event in events if event.attempt]
    return Case(*linked, default=F("attempt"), output_field=BigIntegerField())


def _bulk_statuses(event: ProviderEvent) -> list[dict[str, Any]] | None:
    """Return the statuses of a Meta event that carries only bulk-applicable statuses, or
    None when the event takes the one-by-one path."""
    if event.provider != Provider.META:
        return None
    try:
        envelope = json.loads(event.body)
        statuses = []
        for entry in envelope["entry"]:
            for change in entry["changes"]:
                value = change["value"]
                if change.get("field") != "messages" or set(value) - {
                    "messaging_product",
                    "metadata",
                    "statuses",
                }:
                    return None
                statuses += value["statuses"]
    except (ValueError, KeyError, TypeError):
        return None
    if not statuses or not all(
        isinstance(s, dict) and s.get("status") in BULK_STATUSES for s in statuses
    ):
        return None
    return statuses


def _bulk_sms_status(event: ProviderEvent) -> str | None:
    """Return the bulk status name ("sent", "delivered") of a Twilio status callback for a
    known attempt, or None when the event takes the one-by-one path."""
    if event.provider != Provider.TWILIO or event.kind != "status" or event.attempt is None:
        return None
    status = (parse_qs(event.body).get("MessageStatus") or [""])[-1]
    if status in SMS_PROGRESS:
        return "sent"
    if status in SMS_DELIVERED:
        return "delivered"
    return None


def _find_attempts(statuses: list[dict[str, Any]]) -> dict[str, DeliveryAttempt]:
    """Return the WhatsApp attempts of the statuses, by _status_key, in two lookups."""
    ids = {_callback_id(status) for status in statuses} - {None}
    wamids = {status.get("id") for status in statuses} - {None, ""}
    found = DeliveryAttempt.objects.filter(channel=Channel.WHATSAPP).filter(
        Q(pk__in=ids) | Q(provider_message_id__in=wamids)
    )
    by_id = {attempt.pk: attempt for attempt in found}
    by_wamid = {attempt.provider_message_id: attempt for attempt in by_id.values()}
    matched = {}
    for status in statuses:
        wamid = status.get("id") or ""
        attempt = by_id.get(_callback_id(status) or 0)
        if attempt is None or not _same_message(attempt, wamid):
            attempt = by_wamid.get(wamid)
        if attempt is None:
            continue
        if wamid and not attempt.provider_message_id:
            _keep_wamid(attempt, wamid)
        matched[_status_key(status)] = attempt
    return matched


def _same_message(attempt: DeliveryAttempt, wamid: str) -> bool:
    """Return whether a status may belong to the attempt its callback data names.

    Callback data comes back as sent, but a status whose wamid differs from the one the
    attempt got is for another message: from another installation sharing the sender, or
    a replayed test. Applying it would change an outcome that already happened.
    """
    return not (wamid and attempt.provider_message_id and attempt.provider_message_id != wamid)


def _status_key(status: dict[str, Any]) -> str:
    return f"{status.get('biz_opaque_callback_data', '')}|{status.get('id', '')}"


def _callback_id(status: dict[str, Any]) -> int | None:
    opaque = status.get("biz_opaque_callback_data") or ""
    if opaque.startswith(CALLBACK_PREFIX) and opaque[len(CALLBACK_PREFIX) :].isdigit():
        return int(opaque[len(CALLBACK_PREFIX) :])
    return None


def _keep_wamid(attempt: DeliveryAttempt, wamid: str) -> None:
    # The status beat the send response: keep the wamid now, the response may never come.
    DeliveryAttempt.objects.filter(pk=attempt.pk, provider_message_id="").update(
        provider_message_id=wamid
    )
    attempt.provider_message_id = wamid


def _process(event: ProviderEvent) -> None:
    if event.provider == Provider.META:
        _process_meta(event)
    elif event.kind.startswith(INBOUND_SMS):
        optouts.process_twilio_inbound(event.pk)
    else:
        _process_twilio(event)


def process_event(event_id: int) -> None:
    """Apply one stored event again, whether or not it was processed before (admin replay)."""
    _process(ProviderEvent.objects.select_related("attempt").get(pk=event_id))


def _process_meta(event: ProviderEvent) -> None:
    problems: list[str] = []
    try:
        envelope = json.loads(event.body)
    except json.JSONDecodeError as exc:
        _finish(event, "", [f"body is not JSON: {exc}"])
        return
    fields = []
    matched: list[DeliveryAttempt | None] = []
    for entry in envelope.get("entry") or []:
        for change in entry.get("changes") or []:
            field = change.get("field", "")
            fields.append(field)
            problems += _apply_change(field, change.get("value") or {}, matched)
    event.attempt = _single_attempt(matched)
    _finish(event, ",".join(sorted(set(fields))), problems)


def _process_twilio(event: ProviderEvent) -> None:
    form = {key: values[-1] for key, values in parse_qs(event.body).items()}
    status = form.get("MessageStatus", "")
    problems = []
    if event.attempt is None:
        problems.append("no delivery attempt for this callback")
    else:
        problems += _apply_sms_status(event.attempt, status, form.get("ErrorCode", ""))
    _finish(event, f"status:{status}", problems)


def _apply_change(
    field: str, value: dict[str, Any], matched: list[DeliveryAttempt | None]
) -> list[str]:
    """Apply one change of a Meta event and return its problems. The attempt of each
    status, or None for a status that matched no attempt, is added to matched."""
    if field == "messages":
        problems = optouts.apply_whatsapp_messages(value)
        for status in value.get("statuses") or []:
            attempt = None
            try:
                attempt = _find_attempt(status)
                problems += _apply_whatsapp_status(status, attempt)
            except Exception as exc:
                logger.exception("WhatsApp status %s could not be applied", status.get("id"))
                problems.append(f"{status.get('id')}: {exc}")
            matched.append(attempt)
        return problems
    if field == "message_template_status_update":
        return apply_template_event(value)
    if field == "template_category_update":
        return apply_category_update(value)
    if field == "user_preferences":
        return optouts.apply_user_preferences(value)
    # Other fields are stored for audit only.
    return []


def _apply_whatsapp_status(status: dict[str, Any], attempt: DeliveryAttempt | None) -> list[str]:
    if attempt is None:
        return [f"{status.get('id')}: no matching delivery attempt"]
    name = status.get("status", "")
    if name == "sent":
        outcomes.sent(attempt)
    elif name in ("delivered", "read"):
        outcomes.delivered(attempt, name)
    elif name == "failed":
        outcomes.failed(attempt, _failure(status))
    else:
        # Meta adds statuses without notice ("played", ...): keep them, act on none.
        return [f"{status.get('id')}: status {name!r} not acted on"]
    return []


def _failure(status: dict[str, Any]) -> outcomes.Failure:
    error = (status.get("errors") or [{}])[0]
    details = (error.get("error_data") or {}).get("details", "")
    return outcomes.Failure(
        str(error.get("code", "unknown")),
        error.get("title") or error.get("message", ""),
        details,
    )


def _find_attempt(status: dict[str, Any]) -> DeliveryAttempt | None:
    wamid = status.get("id", "")
    attempts = DeliveryAttempt.objects.filter(channel=Channel.WHATSAPP)
    attempt = None
    callback_id = _callback_id(status)
    if callback_id is not None:
        attempt = attempts.filter(pk=callback_id).first()
    if attempt is not None and not _same_message(attempt, wamid):
        attempt = None
    if attempt is None and wamid:
        attempt = attempts.filter(provider_message_id=wamid).first()
    if attempt is not None and wamid and not attempt.provider_message_id:
        _keep_wamid(attempt, wamid)
    return attempt


def _apply_sms_status(attempt: DeliveryAttempt, status: str, error_code: str) -> list[str]:
    if status in SMS_DELIVERED:
        outcomes.delivered(attempt, AttemptStatus.DELIVERED)
    elif status in SMS_FAILED:
        outcomes.failed(attempt, outcomes.Failure(error_code or "unknown", f"SMS {status}"))
    elif status in SMS_PROGRESS:
        outcomes.sent(attempt)
    else:
        return [f"SMS status {status!r} not acted on"]
    return []


def _finish(event: ProviderEvent, kind: str, problems: list[str]) -> None:
    event.kind = event.kind or kind[:64]
    event.processed_at = timezone.now()
    event.error = "\n".join(problems)[:4000]
    event.save(update_fields=["kind", "attempt", "processed_at", "error"])
    if problems:
        logger.warning(
            "provider event %s processed with %s problems: %s",
            event.pk,
            len(problems),
            problems[:3],
        )
