"""RQ jobs that process stored provider events.

One webhook POST can carry many statuses; each is applied on its own so that one bad
or unknown status does not lose the others. What could not be applied is written on the
event row, where staff see it.
"""

import json
import logging
from typing import Any
from urllib.parse import parse_qs

from django.utils import timezone

from . import optouts, outcomes
from .models import AttemptStatus, Channel, DeliveryAttempt, ProviderEvent
from .template_events import apply_category_update, apply_template_event

logger = logging.getLogger(__name__)

CALLBACK_PREFIX = "attempt:"
SMS_DELIVERED = {"delivered", "read"}
SMS_FAILED = {"failed", "undelivered", "canceled"}
SMS_PROGRESS = {"queued", "sending", "sent", "accepted", "scheduled"}


def process_meta_event(event_id: int) -> None:
    event = ProviderEvent.objects.get(pk=event_id)
    problems: list[str] = []
    try:
        envelope = json.loads(event.body)
    except json.JSONDecodeError as exc:
        _finish(event, "", [f"body is not JSON: {exc}"])
        return
    fields = []
    for entry in envelope.get("entry") or []:
        for change in entry.get("changes") or []:
            field = change.get("field", "")
            fields.append(field)
            problems += _apply_change(field, change.get("value") or {})
    _finish(event, ",".join(sorted(set(fields))), problems)


def process_twilio_event(event_id: int) -> None:
    event = ProviderEvent.objects.select_related("attempt").get(pk=event_id)
    form = {key: values[-1] for key, values in parse_qs(event.body).items()}
    status = form.get("MessageStatus", "")
    problems = []
    if event.attempt is None:
        problems.append("no delivery attempt for this callback")
    else:
        problems += _apply_sms_status(event.attempt, status, form.get("ErrorCode", ""))
    _finish(event, f"status:{status}", problems)


def _apply_change(field: str, value: dict[str, Any]) -> list[str]:
    if field == "messages":
        problems = optouts.apply_whatsapp_messages(value)
        for status in value.get("statuses") or []:
            try:
                problems += _apply_whatsapp_status(status)
            except Exception as exc:
                logger.exception("WhatsApp status %s could not be applied", status.get("id"))
                problems.append(f"{status.get('id')}: {exc}")
        return problems
    if field == "message_template_status_update":
        return apply_template_event(value)
    if field == "template_category_update":
        return apply_category_update(value)
    if field == "user_preferences":
        return optouts.apply_user_preferences(value)
    # Other fields are stored for audit only.
    return []


def _apply_whatsapp_status(status: dict[str, Any]) -> list[str]:
    attempt = _find_attempt(status)
    if attempt is None:
        return [f"{status.get('id')}: no matching delivery attempt"]
    name = status.get("status", "")
    if name == "sent":
        outcomes.sent(attempt)
    elif name in ("delivered", "read"):
        outcomes.delivered(attempt, name)
    elif name == "failed":
        error = (status.get("errors") or [{}])[0]
        details = (error.get("error_data") or {}).get("details", "")
        failure = outcomes.Failure(
            str(error.get("code", "unknown")),
            error.get("title") or error.get("message", ""),
            details,
        )
        outcomes.failed(attempt, failure)
    else:
        # Meta adds statuses without notice ("played", ...): keep them, act on none.
        return [f"{status.get('id')}: status {name!r} not acted on"]
    return []


def _find_attempt(status: dict[str, Any]) -> DeliveryAttempt | None:
    wamid = status.get("id", "")
    opaque = status.get("biz_opaque_callback_data", "")
    attempts = DeliveryAttempt.objects.filter(channel=Channel.WHATSAPP)
    attempt = None
    if opaque.startswith(CALLBACK_PREFIX) and opaque[len(CALLBACK_PREFIX) :].isdigit():
        attempt = attempts.filter(pk=int(opaque[len(CALLBACK_PREFIX) :])).first()
    if attempt is None and wamid:
        attempt = attempts.filter(provider_message_id=wamid).first()
    if attempt is not None and wamid and not attempt.provider_message_id:
        # The status beat the send response: keep the wamid now, the response may never come.
        DeliveryAttempt.objects.filter(pk=attempt.pk, provider_message_id="").update(
            provider_message_id=wamid
        )
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
    event.save(update_fields=["kind", "processed_at", "error"])
    if problems:
        logger.warning(
            "provider event %s processed with %s problems: %s",
            event.pk,
            len(problems),
            problems[:3],
        )
