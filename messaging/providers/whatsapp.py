"""WhatsApp Cloud API client: sends template messages from a sub-account's phone number."""

import logging
from typing import Any

import requests
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from . import http
from .errors import ProviderError, ProviderUnreachable, SendResult

logger = logging.getLogger(__name__)


def template_payload(
    to: str, name: str, language: str, parameters: list[str], callback_data: str
) -> dict[str, Any]:
    components = []
    if parameters:
        components.append(
            {"type": "body", "parameters": [{"type": "text", "text": p} for p in parameters]}
        )
    return {
        "messaging_product": "whatsapp",
        "to": to.lstrip("+"),
        "type": "template",
        "template": {"name": name, "language": {"code": language}, "components": components},
        # Echoed in every status webhook, so a status can be matched to its attempt even when
        # it arrives before the send response was stored.
        "biz_opaque_callback_data": callback_data,
    }


# Django's error reports (the 500 email to ADMINS) list every frame's variables;
# this hides them here and in the requests frames below, which hold the token.
@sensitive_variables()
def send_template(
    *,
    phone_number_id: str,
    access_token: str,
    to: str,
    name: str,
    language: str,
    parameters: list[str],
    callback_data: str,
) -> SendResult:
    url = f"{settings.WHATSAPP_API_BASE_URL}/{phone_number_id}/messages"
    payload = template_payload(to, name, language, parameters, callback_data)
    try:
        response = http.session().post(
            url,
            json=payload,
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=http.timeout(),
        )
    except requests.RequestException as exc:
        raise ProviderUnreachable(f"WhatsApp Cloud API did not respond: {exc}") from exc

    body = _json(response)
    if response.status_code != 200:
        raise _error(response.status_code, body)
    messages = body.get("messages") or [{}]
    wamid = messages[0].get("id", "")
    if not wamid:
        logger.warning("WhatsApp returned 200 without a wamid for %s: %.300s", callback_data, body)
    return SendResult(wamid, messages[0].get("message_status", "accepted"))


@sensitive_variables()
def list_templates(*, business_account_id: str, access_token: str) -> list[dict[str, Any]]:
    url = f"{settings.WHATSAPP_API_BASE_URL}/{business_account_id}/message_templates"
    try:
        response = http.session().get(
            url, headers={"Authorization": f"Bearer {access_token}"}, timeout=http.timeout()
        )
    except requests.RequestException as exc:
        raise ProviderUnreachable(f"WhatsApp Cloud API did not respond: {exc}") from exc
    body = _json(response)
    if response.status_code != 200:
        raise _error(response.status_code, body)
    return list(body.get("data", []))


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error(http_status: int, body: dict[str, Any]) -> ProviderError:
    # Meta's logic lives in error.code (and error_data.details), not in titles or HTTP status.
    error = body.get("error") or {}
    code = str(error.get("code", f"http_{http_status}"))
    details = (error.get("error_data") or {}).get("details", "")
    return ProviderError(code, error.get("message", "no error message"), details, http_status)
