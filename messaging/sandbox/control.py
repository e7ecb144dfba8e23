"""The /_sandbox control API: health, config, message log, templates and inbound events.

Control errors are `{"error": "..."}` with a 4xx status, not a provider's error shape.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from . import twilio, whatsapp
from .config import ConfigError
from .phones import normalize_number
from .state import CATEGORIES
from .webhooks import Delivery

if TYPE_CHECKING:
    from .app import Sandbox

logger = logging.getLogger(__name__)

# Template status after each `message_template_status_update` event. Events not
# listed (LIMIT_EXCEEDED) leave the status unchanged.
EVENT_STATUS = {
    "APPROVED": "APPROVED",
    "REINSTATED": "APPROVED",
    "UNARCHIVED": "APPROVED",
    "PENDING": "PENDING",
    "REJECTED": "REJECTED",
    "PAUSED": "PAUSED",
    "DISABLED": "DISABLED",
    "FLAGGED": "FLAGGED",
    "IN_APPEAL": "IN_APPEAL",
    "PENDING_DELETION": "PENDING_DELETION",
    "DELETED": "DELETED",
    "ARCHIVED": "ARCHIVED",
    "LOCKED": "LOCKED",
}
TEMPLATE_EVENTS = (*EVENT_STATUS, "LIMIT_EXCEEDED")

# Meta allows lowercase letters, digits and underscores in template names.
TEMPLATE_NAME_PATTERN = re.compile(r"^[a-z0-9_]{1,512}$")


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")


def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.get_data() or b"{}")
    except ValueError:
        raise BadRequest("invalid JSON body") from None
    if not isinstance(body, dict):
        raise BadRequest("invalid body: expected a JSON object")
    return body


def _required(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"missing or invalid {key!r}: expected a non-empty string")
    return value


def _required_number(body: dict[str, Any], key: str) -> str:
    number = normalize_number(_required(body, key))
    if number is None:
        raise BadRequest(f"invalid {key!r}: expected an E.164 phone number such as +447400123456")
    return number


def _handles_bad_requests(handler: Any) -> Any:
    def wrapper(sandbox: Sandbox, request: Request, **arguments: Any) -> Response:
        try:
            return handler(sandbox, request, **arguments)
        except BadRequest as exc:
            return json_response({"error": str(exc)}, exc.status)

    wrapper.__name__ = handler.__name__
    wrapper.__doc__ = handler.__doc__
    return wrapper


def health(sandbox: Sandbox, request: Request) -> Response:
    return json_response({"status": "ok", "pending_webhooks": sandbox.dispatcher.pending()})


@_handles_bad_requests
def config(sandbox: Sandbox, request: Request) -> Response:
    """GET returns the config, PUT replaces the keys given, DELETE restores the defaults."""
    if request.method == "PUT":
        changes = _json_body(request)
        try:
            current = sandbox.state.update_config(changes)
        except ConfigError as exc:
            raise BadRequest(str(exc)) from None
        logger.info("Config changed: %s", ", ".join(sorted(changes)))
    elif request.method == "DELETE":
        current = sandbox.state.reset_config()
        logger.info("Config reset to defaults")
    else:
        current = sandbox.state.config
    sandbox.dispatcher.set_batch_size(current["webhook_batch_size"])
    return json_response(dict(current))


@_handles_bad_requests
def messages(sandbox: Sandbox, request: Request) -> Response:
    """GET lists the message log (filters: channel, to); DELETE clears it and its counters.

    DELETE also drops webhooks not yet sent, so one test's webhooks cannot reach the next.
    """
    if request.method == "DELETE":
        sandbox.state.clear_messages()
        dropped = sandbox.dispatcher.clear()
        return json_response({"cleared": True, "dropped_webhooks": dropped})

    channel = request.args.get("channel")
    if channel not in (None, "whatsapp", "sms"):
        raise BadRequest(f"invalid channel {channel!r}: expected 'whatsapp' or 'sms'")
    to = request.args.get("to")
    entries = sandbox.state.messages.list(channel, normalize_number(to) if to else None)
    return json_response({"count": len(entries), "messages": entries})


@_handles_bad_requests
def add_template(sandbox: Sandbox, request: Request) -> Response:
    """Add a template from JSON {name, language, category, body, status=APPROVED}."""
    body = _json_body(request)
    name = _required(body, "name")
    if not TEMPLATE_NAME_PATTERN.match(name):
        raise BadRequest(f"invalid 'name' {name!r}: use lowercase letters, digits and underscores")
    category = _required(body, "category").upper()
    if category not in CATEGORIES:
        raise BadRequest(
            f"invalid 'category' {category!r}: expected one of {', '.join(CATEGORIES)}"
        )
    status = str(body.get("status", "APPROVED")).upper()
    try:
        template = sandbox.state.templates.add(
            name, _required(body, "language"), category, _required(body, "body"), status
        )
    except KeyError as exc:
        raise BadRequest(str(exc.args[0]), 409) from None
    return json_response(template.to_graph_json(), 201)


@_handles_bad_requests
def template_event(sandbox: Sandbox, request: Request, template_id: str) -> Response:
    """Apply a review event to a template and send `message_template_status_update`."""
    template = sandbox.state.templates.get(template_id)
    if template is None:
        raise BadRequest(f"template {template_id!r} not found", 404)
    body = _json_body(request)
    event = _required(body, "event").upper()
    if event not in TEMPLATE_EVENTS:
        raise BadRequest(f"invalid 'event' {event!r}: expected one of {', '.join(TEMPLATE_EVENTS)}")
    reason = str(body.get("reason") or "NONE")
    title = body.get("title")

    if event in EVENT_STATUS:
        sandbox.state.templates.set_status(template, EVENT_STATUS[event])
    payload = whatsapp.template_status_payload(
        sandbox.state.config["waba_id"], template, event, reason, title
    )
    delay = sandbox.state.config["webhook_delay_ms"] / 1000
    sandbox.deliver(Delivery(sandbox.meta_webhook_url, template.id, meta_payload=payload), delay)
    logger.info("Template %s (%s) event %s", template.id, template.name, event)
    return json_response({"template": template.to_graph_json(), "webhook": payload})


@_handles_bad_requests
def inbound_sms(sandbox: Sandbox, request: Request) -> Response:
    """Send a signed Twilio inbound-message webhook, as if a phone texted the app.

    JSON {from, to, body, account_sid, auth_token, messaging_service_sid?}. The
    token only signs the webhook and is not stored.
    """
    if not sandbox.twilio_inbound_url:
        raise BadRequest("no Twilio inbound URL: start the sandbox with --twilio-inbound-url", 409)
    body = _json_body(request)
    text = body.get("body")
    if not isinstance(text, str):
        raise BadRequest("missing or invalid 'body': expected a string")
    params = twilio.inbound_params(
        _required(body, "account_sid"),
        _required_number(body, "from"),
        _required_number(body, "to"),
        text,
        body.get("messaging_service_sid"),
    )
    delivery = Delivery(
        sandbox.twilio_inbound_url,
        params["MessageSid"],
        twilio_params=params,
        auth_token=_required(body, "auth_token"),
    )
    sandbox.deliver(delivery, 0)
    return json_response({"webhook": params}, 202)


@_handles_bad_requests
def inbound_whatsapp(sandbox: Sandbox, request: Request) -> Response:
    """Send a Meta `messages` webhook carrying a user's reply.

    JSON {phone_number_id, from, text, name?, context_id?}. With `button_payload`
    in place of `text`, it sends a quick-reply tap (type "button").
    """
    body = _json_body(request)
    phone_number_id = _required(body, "phone_number_id")
    sender = _required_number(body, "from")
    message: dict[str, Any] = {
        "from": sender[1:],
        "id": whatsapp.new_wamid(),
        "timestamp": str(int(time.time())),
    }
    if body.get("button_payload"):
        message["type"] = "button"
        message["button"] = {
            "payload": str(body["button_payload"]),
            "text": str(body.get("text") or body["button_payload"]),
        }
    else:
        message["type"] = "text"
        message["text"] = {"body": _required(body, "text")}
    if body.get("context_id"):
        message["context"] = {"from": sender[1:], "id": str(body["context_id"])}

    name = str(body.get("name") or "Sandbox User")
    payload = whatsapp.inbound_message_payload(sandbox, phone_number_id, sender, message, name)
    sandbox.deliver(Delivery(sandbox.meta_webhook_url, message["id"], meta_payload=payload), 0)
    return json_response({"webhook": payload}, 202)


@_handles_bad_requests
def user_preferences(sandbox: Sandbox, request: Request) -> Response:
    """Send a Meta `user_preferences` webhook: JSON {phone_number_id, from, value: stop|resume}."""
    body = _json_body(request)
    phone_number_id = _required(body, "phone_number_id")
    sender = _required_number(body, "from")
    value = _required(body, "value")
    if value not in ("stop", "resume"):
        raise BadRequest(f"invalid 'value' {value!r}: expected 'stop' or 'resume'")
    payload = whatsapp.user_preferences_payload(sandbox, phone_number_id, sender, value)
    sandbox.deliver(Delivery(sandbox.meta_webhook_url, sender, meta_payload=payload), 0)
    return json_response({"webhook": payload}, 202)
