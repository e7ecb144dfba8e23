"""Twilio Messages API endpoint, its status callbacks and inbound-message webhooks."""

from __future__ import annotations

import json
import logging
import time
import uuid
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from messaging.segments import count as count_text

from .phones import normalize_number, phone_info
from .rules import Outcome, opt_out_type, sms_outcome
from .state import utc_now_iso
from .urls import is_loopback_url
from .webhooks import Delivery

if TYPE_CHECKING:
    from .app import Sandbox

logger = logging.getLogger(__name__)

API_VERSION = "2010-04-01"
MAX_BODY_CHARACTERS = 1600
# Sender reported in callbacks of a Messaging Service send, which has no From of
# its own. It is the example number used in Twilio's documentation.
MESSAGING_SERVICE_SENDER = "+15017122661"

ERROR_MESSAGES = {
    20003: "Authenticate",
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
    20503: "Service unavailable",
    21211: "The 'To' number {to} is not a valid phone number.",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21609: "Invalid StatusCallback url",
    21610: "Attempt to send to unsubscribed recipient",
    21617: "The concatenated message body exceeds the 1600 character limit.",
}


def error_response(code: int, status: int, message: str | None = None) -> Response:
    """Build Twilio's error body: {code, message, more_info, status}."""
    payload = {
        "code": code,
        "message": message or ERROR_MESSAGES.get(code, f"Error {code}"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    response = Response(json.dumps(payload), status=status, mimetype="application/json")
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
    return response


def new_sid(prefix: str = "SM") -> str:
    return prefix + uuid.uuid4().hex


class InvalidSend(Exception):
    def __init__(self, code: int, message: str | None = None) -> None:
        super().__init__(message or ERROR_MESSAGES.get(code, ""))
        self.code = code
        self.message = message


def parse_send(form: Any) -> dict[str, str]:
    """Validate the form fields of a send and return them. Raises InvalidSend."""
    to = form.get("To", "")
    sender = form.get("From", "")
    service_sid = form.get("MessagingServiceSid", "")
    body = form.get("Body", "")
    callback = form.get("StatusCallback", "")

    if not to:
        raise InvalidSend(21604)
    if not sender and not service_sid:
        raise InvalidSend(21603)
    if sender and service_sid:
        raise InvalidSend(21603, "Provide exactly one of 'From' or 'MessagingServiceSid'.")
    if not body:
        raise InvalidSend(21602)
    if len(body) > MAX_BODY_CHARACTERS:
        raise InvalidSend(21617)

    # Twilio expects E.164 here. The phonenumbers "possible" check looks only at
    # length, so fictional numbers such as +1 555 stay usable in tests.
    normalized = normalize_number(to) if to.startswith("+") else None
    if normalized is None or not phone_info(normalized).possible:
        raise InvalidSend(21211, ERROR_MESSAGES[21211].format(to=to))
    if callback and not is_loopback_url(callback):
        raise InvalidSend(
            21609, "Invalid StatusCallback url: the sandbox only calls loopback addresses."
        )
    return {
        "to": normalized,
        "from": sender,
        "messaging_service_sid": service_sid,
        "body": body,
        "status_callback": callback,
    }


def handle_send(sandbox: Sandbox, request: Request, account_sid: str) -> Response:
    """Handle POST /2010-04-01/Accounts/{AccountSid}/Messages.json."""
    auth = request.authorization
    if auth is None or auth.type != "basic" or auth.username != account_sid or not auth.password:
        return error_response(20003, 401)
    auth_token = auth.password

    try:
        fields = parse_send(request.form)
    except InvalidSend as exc:
        return error_response(exc.code, 400, exc.message)

    config = sandbox.state.config
    if not sandbox.state.throttle.allow("sms:" + account_sid, config["sms_mps"]):
        return error_response(20429, 429)

    fault = sandbox.state.faults["sms"].pick(config["error_5xx_percent"])
    if fault is not None:
        return error_response(20500, 500) if fault % 2 else error_response(20503, 503)

    if fields["to"] in config["sms_stop_numbers"]:
        return error_response(21610, 400)

    message = build_message(account_sid, fields)
    outcome = sms_outcome(config, fields["to"])
    sandbox.state.messages.append(
        {
            "channel": "sms",
            "id": message["sid"],
            "to": fields["to"],
            "from": fields["from"] or None,
            "messaging_service_sid": fields["messaging_service_sid"] or None,
            "account_sid": account_sid,
            "body": fields["body"],
            "num_segments": int(message["num_segments"]),
            "status_callback": fields["status_callback"] or None,
            "outcome": {
                "statuses": list(outcome.statuses),
                "error_code": outcome.error_code,
                "rule": outcome.rule,
            },
            "time": utc_now_iso(),
        }
    )
    if fields["status_callback"]:
        schedule_callbacks(sandbox, account_sid, auth_token, fields, message["sid"], outcome)
    return Response(json.dumps(message), status=201, mimetype="application/json")


def handle_fetch_account(sandbox: Sandbox, request: Request, account_sid: str) -> Response:
    """Handle GET /2010-04-01/Accounts/{AccountSid}.json: any non-empty token is accepted."""
    auth = request.authorization
    if auth is None or auth.type != "basic" or auth.username != account_sid or not auth.password:
        return error_response(20003, 401)
    account = {
        "sid": account_sid,
        "friendly_name": f"Sandbox account {account_sid[-6:]}",
        "status": "active",
        "type": "Full",
        "uri": f"/{API_VERSION}/Accounts/{account_sid}.json",
    }
    return Response(json.dumps(account), status=200, mimetype="application/json")


def build_message(account_sid: str, fields: dict[str, str]) -> dict[str, Any]:
    sid = new_sid()
    now = formatdate(usegmt=True).replace("GMT", "+0000")
    # A Messaging Service send is "accepted" until Twilio picks a sender for it.
    status = "accepted" if fields["messaging_service_sid"] else "queued"
    return {
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "body": fields["body"],
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": fields["from"] or None,
        "messaging_service_sid": fields["messaging_service_sid"] or None,
        "num_media": "0",
        "num_segments": str(count_text(fields["body"]).segments),
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": status,
        "subresource_uris": {
            "media": f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}/Media.json"
        },
        "to": fields["to"],
        "uri": f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}.json",
    }


def callback_params(
    account_sid: str, fields: dict[str, str], sid: str, status: str, error_code: int | None
) -> dict[str, str]:
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": account_sid,
        "From": fields["from"] or MESSAGING_SERVICE_SENDER,
        "To": fields["to"],
        "ApiVersion": API_VERSION,
        "MessageStatus": status,
        "SmsStatus": status,
    }
    if fields["messaging_service_sid"]:
        params["MessagingServiceSid"] = fields["messaging_service_sid"]
    if status in ("failed", "undelivered") and error_code is not None:
        params["ErrorCode"] = str(error_code)
    if status in ("delivered", "undelivered"):
        # Carriers report the delivery receipt time as YYMMDDhhmm in UTC.
        params["RawDlrDoneDate"] = time.strftime("%y%m%d%H%M", time.gmtime())
    return params


def schedule_callbacks(
    sandbox: Sandbox,
    account_sid: str,
    auth_token: str,
    fields: dict[str, str],
    sid: str,
    outcome: Outcome,
) -> None:
    step = sandbox.state.config["webhook_delay_ms"] / 1000
    delays = [step * (index + 1) for index in range(len(outcome.statuses))]
    if sandbox.state.config["reorder_webhooks"]:
        delays.reverse()
    for index, status in enumerate(outcome.statuses):
        params = callback_params(account_sid, fields, sid, status, outcome.error_code)
        delivery = Delivery(
            url=fields["status_callback"], label=sid, twilio_params=params, auth_token=auth_token
        )
        sandbox.deliver(delivery, delays[index])


def inbound_params(
    account_sid: str, sender: str, to: str, body: str, service_sid: str | None
) -> dict[str, str]:
    sid = new_sid()
    params = {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "AccountSid": account_sid,
        "From": sender,
        "To": to,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": str(count_text(body).segments) if body else "1",
        "SmsStatus": "received",
        "ApiVersion": API_VERSION,
    }
    if service_sid:
        params["MessagingServiceSid"] = service_sid
    keyword = opt_out_type(body)
    if keyword:
        params["OptOutType"] = keyword
    return params
