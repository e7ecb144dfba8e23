"""Twilio Messages API client: sends SMS from a sub-account's Twilio number."""

import logging
from typing import Any

import requests
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from . import http
from .errors import ProviderError, ProviderUnreachable, SendResult

logger = logging.getLogger(__name__)


# Django's error reports (the 500 email to ADMINS) list every frame's variables;
# this hides them here and in the requests frames below, which hold the token.
@sensitive_variables()
def send_sms(
    *, account_sid: str, auth_token: str, from_number: str, to: str, body: str, status_callback: str
) -> SendResult:
    url = f"{settings.TWILIO_API_BASE_URL}/2010-04-01/Accounts/{account_sid}/Messages.json"
    form = {"To": to, "From": from_number, "Body": body, "StatusCallback": status_callback}
    try:
        response = http.session().post(
            url, data=form, auth=(account_sid, auth_token), timeout=http.timeout()
        )
    except requests.RequestException as exc:
        # Twilio has no idempotency key: a lost response means "maybe sent", never "resend".
        raise ProviderUnreachable(f"Twilio did not respond: {exc}") from exc

    answer = _json(response)
    if response.status_code not in (200, 201):
        code = str(answer.get("code", f"http_{response.status_code}"))
        title = answer.get("message", "no error message")
        raise ProviderError(code, title, answer.get("more_info", ""), response.status_code)
    segments = answer.get("num_segments")
    return SendResult(
        answer.get("sid", ""),
        answer.get("status", "queued"),
        int(segments) if segments and str(segments).isdigit() else None,
    )


@sensitive_variables()
def fetch_account(*, account_sid: str, auth_token: str) -> dict[str, Any]:
    """Fetch the Twilio account, which proves the SID and auth token work together."""
    url = f"{settings.TWILIO_API_BASE_URL}/2010-04-01/Accounts/{account_sid}.json"
    try:
        response = http.session().get(url, auth=(account_sid, auth_token), timeout=http.timeout())
    except requests.RequestException as exc:
        raise ProviderUnreachable(f"Twilio did not respond: {exc}") from exc

    answer = _json(response)
    if response.status_code != 200:
        code = str(answer.get("code", f"http_{response.status_code}"))
        title = answer.get("message", "no error message")
        raise ProviderError(code, title, answer.get("more_info", ""), response.status_code)
    return answer


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}
