"""The sandbox's WSGI application: routing, shared context and injected faults."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import control, twilio, whatsapp
from .state import SandboxState
from .webhooks import Delivery, WebhookDispatcher

logger = logging.getLogger(__name__)

# Duplicates follow their original by this much, so both arrive as separate POSTs.
DUPLICATE_OFFSET_SECONDS = 0.005


class Sandbox:
    """Everything a handler needs: state, webhook dispatcher and the app's webhook URLs."""

    def __init__(
        self,
        dispatcher: WebhookDispatcher,
        meta_webhook_url: str,
        twilio_inbound_url: str | None = None,
    ) -> None:
        self.state = SandboxState()
        self.dispatcher = dispatcher
        self.meta_webhook_url = meta_webhook_url
        self.twilio_inbound_url = twilio_inbound_url

    def deliver(self, delivery: Delivery, delay_seconds: float) -> None:
        """Schedule a webhook, twice when `duplicate_webhooks` is on."""
        self.dispatcher.schedule(delivery, delay_seconds)
        if self.state.config["duplicate_webhooks"]:
            duplicate = Delivery(
                url=delivery.url,
                label=delivery.label,
                meta_statuses=delivery.meta_statuses,
                meta_payload=delivery.meta_payload,
                twilio_params=delivery.twilio_params,
                auth_token=delivery.auth_token,
            )
            self.dispatcher.schedule(duplicate, delay_seconds + DUPLICATE_OFFSET_SECONDS)


Handler = Callable[..., Response]

# Endpoints of the real providers, as opposed to the /_sandbox control API.
PROVIDER_SENDS: dict[str, tuple[str, Handler]] = {
    "whatsapp_send": ("whatsapp", whatsapp.handle_send),
    "twilio_send": ("sms", twilio.handle_send),
}

URL_MAP = Map(
    [
        Rule("/v<version>/<phone_number_id>/messages", endpoint="whatsapp_send", methods=["POST"]),
        Rule(
            "/v<version>/<waba_id>/message_templates",
            endpoint="whatsapp_templates",
            methods=["GET"],
        ),
        Rule(
            "/2010-04-01/Accounts/<account_sid>/Messages.json",
            endpoint="twilio_send",
            methods=["POST"],
        ),
        Rule(
            "/2010-04-01/Accounts/<account_sid>.json",
            endpoint="twilio_account",
            methods=["GET"],
        ),
        Rule("/_sandbox/health", endpoint="health", methods=["GET"]),
        Rule("/_sandbox/config", endpoint="config", methods=["GET", "PUT", "DELETE"]),
        Rule("/_sandbox/messages", endpoint="messages", methods=["GET", "DELETE"]),
        Rule("/_sandbox/templates", endpoint="add_template", methods=["POST"]),
        Rule(
            "/_sandbox/templates/<template_id>/event", endpoint="template_event", methods=["POST"]
        ),
        Rule("/_sandbox/inbound/sms", endpoint="inbound_sms", methods=["POST"]),
        Rule("/_sandbox/inbound/whatsapp", endpoint="inbound_whatsapp", methods=["POST"]),
        Rule("/_sandbox/user-preferences", endpoint="user_preferences", methods=["POST"]),
    ],
    strict_slashes=False,
)

CONTROL_HANDLERS: dict[str, Handler] = {
    "health": control.health,
    "config": control.config,
    "messages": control.messages,
    "add_template": control.add_template,
    "template_event": control.template_event,
    "inbound_sms": control.inbound_sms,
    "inbound_whatsapp": control.inbound_whatsapp,
    "user_preferences": control.user_preferences,
}


class SandboxApp:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        adapter = URL_MAP.bind_to_environ(request.environ)
        try:
            endpoint, matched = adapter.match()
        except HTTPException as exc:
            return control.json_response({"error": exc.description}, exc.code or 500)
        arguments = {key: value for key, value in matched.items() if key != "version"}

        if endpoint in PROVIDER_SENDS:
            channel, handler = PROVIDER_SENDS[endpoint]
            return self.provider_send(channel, handler, request, arguments)
        if endpoint == "whatsapp_templates":
            self.add_latency()
            return whatsapp.handle_list_templates(self.sandbox, request)
        if endpoint == "twilio_account":
            self.add_latency()
            return twilio.handle_fetch_account(self.sandbox, request, **arguments)
        return CONTROL_HANDLERS[endpoint](self.sandbox, request, **arguments)

    def add_latency(self) -> None:
        latency_ms = self.sandbox.state.config["latency_ms"]
        if latency_ms:
            time.sleep(latency_ms / 1000)

    def provider_send(
        self, channel: str, handler: Handler, request: Request, arguments: dict[str, Any]
    ) -> Response:
        self.add_latency()
        response = handler(self.sandbox, request, **arguments)
        if response.status_code < 300:
            # A hang simulates a timeout after the provider accepted the message, so
            # the send is already logged and its webhooks scheduled.
            config = self.sandbox.state.config
            if self.sandbox.state.hangs[channel].pick(config["hang_percent"]) is not None:
                time.sleep(config["hang_seconds"])
        return response
