"""WhatsApp Cloud API endpoints: template sends, template listing, and their webhooks."""

from __future__ import annotations

import base64
import json
import logging
import os
import time
import uuid
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from .phones import normalize_number
from .rules import Outcome, whatsapp_outcome
from .state import SENDABLE_STATUSES, Template, utc_now_iso
from .webhooks import Delivery, MetaStatuses, meta_envelope

if TYPE_CHECKING:
    from .app import Sandbox

logger = logging.getLogger(__name__)

ERROR_DOCS_URL = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"

# Titles and details as Meta words them. Codes not listed get a generic title.
ERROR_TEXT: dict[int, tuple[str, str]] = {
    0: ("AuthException", "We were unable to authenticate the app user."),
    1: ("API Unknown", "Invalid request or possible server error."),
    2: ("API Service", "Temporary due to downtime or due to being overloaded."),
    4: ("API Too Many Calls", "The app has reached its API call rate limit."),
    100: ("Invalid parameter", "The request included invalid or unsupported parameters."),
    190: ("Invalid OAuth access token - Cannot parse access token", "The token is invalid."),
    130429: ("Rate limit hit", "Cloud API message throughput has been reached."),
    130472: (
        "User's number is part of an experiment",
        "Failed to send message because this user's phone number is part of an experiment.",
    ),
    130497: (
        "Business account is restricted from messaging users in this country",
        "The business is not allowed to message users in this country.",
    ),
    131000: ("Something went wrong", "Message failed to send due to an unknown error."),
    131008: ("Required parameter is missing", "The request is missing a required parameter."),
    131009: ("Parameter value is not valid", "One or more parameter values are invalid."),
    131016: ("Service unavailable", "A service is temporarily unavailable."),
    131021: ("Recipient cannot be sender", "Sender and recipient phone number is the same."),
    131026: (
        "Message undeliverable",
        "Unable to deliver message. The recipient may not be a WhatsApp user, may use an old "
        "WhatsApp version or may not have accepted the latest Terms of Service.",
    ),
    131047: (
        "Re-engagement message",
        "More than 24 hours have passed since the recipient last replied to the sender number.",
    ),
    131048: ("Spam rate limit hit", "Message failed to send because of quality restrictions."),
    131049: (
        "This message was not delivered to maintain healthy ecosystem engagement.",
        "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
    ),
    131050: (
        "Unable to deliver the message. This recipient has chosen to stop receiving marketing "
        "messages on WhatsApp from your business",
        "The recipient has stopped marketing messages from this business.",
    ),
    131056: (
        "(Business Account, Consumer Account) pair rate limit hit",
        "Too many messages sent from the sender phone number to the same recipient in a "
        "short period of time.",
    ),
    131057: ("Account in maintenance mode", "The business account is in maintenance mode."),
    132000: (
        "Number of parameters does not match the expected number of params",
        "The number of variable parameter values does not match the template's variables.",
    ),
    132001: (
        "Template name does not exist in the translation",
        "The template does not exist in the specified language or has not been approved.",
    ),
    132015: (
        "Template is Paused",
        "Template is paused due to low quality so it cannot be sent in a template message.",
    ),
    132016: (
        "Template is Disabled",
        "Template has been paused too many times due to low quality and is now permanently "
        "disabled.",
    ),
}

# HTTP statuses Meta uses for synchronous errors. Codes not listed get 400.
HTTP_STATUS = {2: 503, 190: 401, 130429: 429, 131000: 500, 131016: 503}


def error_title(code: int) -> str:
    return ERROR_TEXT.get(code, (f"Error {code}", ""))[0]


def error_details(code: int) -> str:
    return ERROR_TEXT.get(code, ("", f"The request failed with error code {code}."))[1]


def error_response(code: int, details: str | None = None) -> Response:
    """Build Meta's Graph error body: {"error": {message, type, code, error_data, fbtrace_id}}."""
    payload = {
        "error": {
            "message": f"(#{code}) {error_title(code)}",
            "type": "OAuthException",
            "code": code,
            "error_data": {
                "messaging_product": "whatsapp",
                "details": details or error_details(code),
            },
            "fbtrace_id": base64.b64encode(os.urandom(18), altchars=b"-_").decode(),
        }
    }
    status = HTTP_STATUS.get(code, 400)
    return Response(json.dumps(payload), status=status, mimetype="application/json")


def new_wamid() -> str:
    return "wamid." + base64.b64encode(uuid.uuid4().bytes + os.urandom(12)).decode()


class InvalidSend(Exception):
    def __init__(self, code: int, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


def _require_string(container: dict[str, Any], key: str, path: str) -> str:
    value = container.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidSend(100, f"The parameter {path} is required and must be a string.")
    return value


def parse_send(request: Request) -> dict[str, Any]:
    """Validate a template send body and return it. Raises InvalidSend naming the field."""
    try:
        body = json.loads(request.get_data())
    except ValueError:
        raise InvalidSend(100, "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise InvalidSend(100, "The request body must be a JSON object.")

    if body.get("messaging_product") != "whatsapp":
        raise InvalidSend(
            100, "The parameter messaging_product is required and must be 'whatsapp'."
        )
    to = _require_string(body, "to", "to")
    if normalize_number(to) is None:
        raise InvalidSend(100, f"The parameter to is not a valid phone number: {to!r}.")
    if body.get("type") != "template":
        raise InvalidSend(
            100, "The parameter type must be 'template'; the sandbox sends template messages only."
        )

    template = body.get("template")
    if not isinstance(template, dict):
        raise InvalidSend(100, "The parameter template is required and must be an object.")
    _require_string(template, "name", "template.name")
    language = template.get("language")
    if not isinstance(language, dict):
        raise InvalidSend(100, "The parameter template.language is required and must be an object.")
    _require_string(language, "code", "template.language.code")
    components = template.get("components", [])
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        raise InvalidSend(100, "The parameter template.components must be a list of objects.")

    callback_data = body.get("biz_opaque_callback_data")
    # NOTE: the 512-character limit is widely reported but not on Meta's reference page.
    if callback_data is not None and (
        not isinstance(callback_data, str) or len(callback_data) > 512
    ):
        raise InvalidSend(
            100,
            "The parameter biz_opaque_callback_data must be a string of at most 512 characters.",
        )
    return body


def body_parameters(body: dict[str, Any]) -> list[Any]:
    parameters: list[Any] = []
    for component in body["template"].get("components", []):
        if str(component.get("type", "")).lower() == "body":
            parameters.extend(component.get("parameters") or [])
    return parameters


def check_template(template: Template | None, name: str, language: str, count: int) -> None:
    if template is None or (
        template.status not in SENDABLE_STATUSES and template.status not in ("PAUSED", "DISABLED")
    ):
        raise InvalidSend(
            132001, f"template name ({name}) does not exist in {language} or is not approved"
        )
    if template.status == "DISABLED":
        raise InvalidSend(132016, f"template {name} ({language}) is disabled")
    if count != template.variable_count:
        raise InvalidSend(
            132000,
            f"body: number of localizable_params ({count}) does not match the expected "
            f"number of params ({template.variable_count})",
        )


def handle_send(sandbox: Sandbox, request: Request, phone_number_id: str) -> Response:
    """Handle POST /v{version}/{phone_number_id}/messages."""
    authorization = request.headers.get("Authorization", "")
    if not authorization.startswith("Bearer ") or not authorization[7:].strip():
        return error_response(190, "Missing or malformed Authorization: Bearer <token> header.")

    try:
        body = parse_send(request)
        name = body["template"]["name"]
        language = body["template"]["language"]["code"]
        template = sandbox.state.templates.find(name, language)
        parameters = body_parameters(body)
        check_template(template, name, language, len(parameters))
    except InvalidSend as exc:
        return error_response(exc.code, exc.details)
    assert template is not None

    config = sandbox.state.config
    if not sandbox.state.throttle.allow("whatsapp:" + phone_number_id, config["whatsapp_mps"]):
        return error_response(
            130429, f"Throughput of {config['whatsapp_mps']} messages/s for this number exceeded."
        )

    fault = sandbox.state.faults["whatsapp"].pick(config["error_5xx_percent"])
    if fault is not None:
        return error_response(131000 if fault % 2 else 2)

    to = normalize_number(body["to"])
    assert to is not None
    sync_error = config["whatsapp_sync_errors"].get(to)
    if sync_error and sandbox.state.sync_errors.take(to, sync_error["times"]):
        return error_response(sync_error["code"])

    wamid = new_wamid()
    outcome = whatsapp_outcome(config, to, template)
    callback_data = body.get("biz_opaque_callback_data")
    sandbox.state.messages.append(
        {
            "channel": "whatsapp",
            "id": wamid,
            "to": to,
            "phone_number_id": phone_number_id,
            "template": template.name,
            "language": template.language,
            "category": template.category,
            "parameters": parameters,
            "biz_opaque_callback_data": callback_data,
            "outcome": {
                "statuses": list(outcome.statuses),
                "error_code": outcome.error_code,
                "rule": outcome.rule,
            },
            "time": utc_now_iso(),
        }
    )
    schedule_statuses(sandbox, phone_number_id, wamid, to, template, callback_data, outcome)

    response = {
        "messaging_product": "whatsapp",
        "contacts": [{"input": body["to"], "wa_id": to[1:]}],
        "messages": [{"id": wamid, "message_status": "accepted"}],
    }
    return Response(json.dumps(response), status=200, mimetype="application/json")


def build_status(
    wamid: str,
    status: str,
    timestamp: float,
    recipient: str,
    template: Template,
    callback_data: str | None,
    error_code: int | None,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(int(timestamp)),
        "recipient_id": recipient[1:],
    }
    if callback_data is not None:
        item["biz_opaque_callback_data"] = callback_data
    if status == "delivered":
        item["pricing"] = {
            "billable": True,
            "pricing_model": "PMP",
            "type": "regular",
            "category": template.category.lower(),
        }
    if status == "failed" and error_code is not None:
        item["errors"] = [
            {
                "code": error_code,
                "title": error_title(error_code),
                "message": error_title(error_code),
                "error_data": {"details": error_details(error_code)},
                "href": ERROR_DOCS_URL,
            }
        ]
    return item


def display_phone_number(sandbox: Sandbox, phone_number_id: str) -> str:
    configured = sandbox.state.config["display_phone_numbers"].get(phone_number_id)
    if configured:
        return configured
    digits = "".join(ch for ch in phone_number_id if ch.isdigit())
    return "1555" + digits[-7:].zfill(7)


def schedule_statuses(
    sandbox: Sandbox,
    phone_number_id: str,
    wamid: str,
    to: str,
    template: Template,
    callback_data: str | None,
    outcome: Outcome,
) -> None:
    """Schedule one webhook per status, `webhook_delay_ms` apart."""
    config = sandbox.state.config
    step = config["webhook_delay_ms"] / 1000
    now = time.time()
    display = display_phone_number(sandbox, phone_number_id)
    delays = [step * (index + 1) for index in range(len(outcome.statuses))]
    if config["reorder_webhooks"]:
        # Timestamps keep the true order, and only the arrival order is reversed.
        delays.reverse()

    for index, status in enumerate(outcome.statuses):
        item = build_status(
            wamid, status, now + step * (index + 1), to, template, callback_data, outcome.error_code
        )
        statuses = MetaStatuses(phone_number_id, display, config["waba_id"], [item])
        delivery = Delivery(url=sandbox.meta_webhook_url, label=wamid, meta_statuses=statuses)
        sandbox.deliver(delivery, delays[index])


def handle_list_templates(sandbox: Sandbox, request: Request) -> Response:
    """Handle GET /v{version}/{waba_id}/message_templates: list every stored template."""
    authorization = request.headers.get("Authorization", "")
    if not authorization.startswith("Bearer ") or not authorization[7:].strip():
        return error_response(190, "Missing or malformed Authorization: Bearer <token> header.")
    name = request.args.get("name")
    templates = [
        template.to_graph_json()
        for template in sandbox.state.templates.list()
        if name is None or template.name == name
    ]
    payload = {"data": templates, "paging": {"cursors": {}}}
    return Response(json.dumps(payload), status=200, mimetype="application/json")


def template_status_payload(
    waba_id: str, template: Template, event: str, reason: str, title: str | None
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "event": event,
        # Meta sends the id as a JSON number here but as a string in the Graph API.
        "message_template_id": int(template.id),
        "message_template_name": template.name,
        "message_template_language": template.language,
        "reason": reason,
    }
    if title:
        value["other_info"] = {"title": title}
    envelope = meta_envelope(waba_id, "message_template_status_update", value)
    envelope["entry"][0]["time"] = int(time.time())
    return envelope


def inbound_message_payload(
    sandbox: Sandbox, phone_number_id: str, sender: str, message: dict[str, Any], name: str
) -> dict[str, Any]:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": display_phone_number(sandbox, phone_number_id),
            "phone_number_id": phone_number_id,
        },
        "contacts": [{"profile": {"name": name}, "wa_id": sender[1:]}],
        "messages": [message],
    }
    return meta_envelope(sandbox.state.config["waba_id"], "messages", value)


def user_preferences_payload(
    sandbox: Sandbox, phone_number_id: str, sender: str, value: str
) -> dict[str, Any]:
    detail = (
        "User requested to stop marketing messages"
        if value == "stop"
        else "User requested to resume marketing messages"
    )
    change = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": display_phone_number(sandbox, phone_number_id),
            "phone_number_id": phone_number_id,
        },
        "contacts": [{"wa_id": sender[1:]}],
        "user_preferences": [
            {
                "wa_id": sender[1:],
                "detail": detail,
                "category": "marketing_messages",
                "value": value,
                "timestamp": int(time.time()),
            }
        ],
    }
    return meta_envelope(sandbox.state.config["waba_id"], "user_preferences", change)
