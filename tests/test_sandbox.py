"""The provider sandbox over real HTTP: response shapes, outcome rules, signed webhooks.

These tests start `python -m messaging.sandbox` as a subprocess and receive its
webhooks on a stdlib HTTP server; they use no database.
"""

from __future__ import annotations

import base64
import gc
import hashlib
import hmac
import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest
import requests

from messaging.sandbox.state import FREEZE_EVERY, MessageLog
from messaging.sandbox.testing import PROJECT_ROOT, SandboxProcess

APP_SECRET = "test-app-secret-7f3a"
ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token-91c2"
PHONE_NUMBER_ID = "106540352242922"

US_NUMBER = "+12125550123"
CANADA_NUMBER = "+14165550123"
UK_LANDLINE = "+442079460000"
UK_MOBILE = "+447400123456"


class WebhookReceiver:
    """A local HTTP server that records every POST and returns 200, or 500 while fail_next > 0."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.fail_next = 0
        self._condition = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._condition:
                    failing = receiver.fail_next > 0
                    receiver.fail_next -= 1 if failing else 0
                    receiver.received.append(
                        {"path": self.path, "headers": dict(self.headers), "body": body}
                    )
                    receiver._condition.notify_all()
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def clear(self) -> None:
        with self._condition:
            self.received.clear()
            self.fail_next = 0

    def wait_for(
        self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 3.0
    ) -> list[dict[str, Any]]:
        """Wait until predicate(received) is true, then return a copy of what was received."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while not predicate(self.received):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._condition.wait(remaining)
            return list(self.received)


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    webhook_receiver = WebhookReceiver()
    webhook_receiver.thread.start()
    yield webhook_receiver
    webhook_receiver.server.shutdown()
    webhook_receiver.server.server_close()


@pytest.fixture(scope="module")
def sandbox_process(receiver: WebhookReceiver) -> Iterator[SandboxProcess]:
    with SandboxProcess(
        meta_webhook_url=receiver.url("/meta"),
        meta_app_secret=APP_SECRET,
        twilio_inbound_url=receiver.url("/twilio/inbound"),
    ) as process:
        yield process


@pytest.fixture
def box(sandbox_process: SandboxProcess, receiver: WebhookReceiver) -> SandboxProcess:
    """The shared sandbox with a fresh log, fast webhooks and no random unreachable numbers."""
    sandbox_process.reset()
    sandbox_process.configure(webhook_delay_ms=20, unreachable_percent=0)
    receiver.clear()
    return sandbox_process


# --- helpers ----------------------------------------------------------------


def send_whatsapp(
    box: SandboxProcess,
    to: str,
    template: str = "order_update",
    params: tuple[str, ...] = ("Ana", "A-1001"),
    token: str | None = "any-token",
    **extra: Any,
) -> requests.Response:
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "to": to,
        "type": "template",
        "template": {
            "name": template,
            "language": {"code": "en_US"},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": p} for p in params]}
            ],
        },
        **extra,
    }
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(
        f"{box.url}/v21.0/{PHONE_NUMBER_ID}/messages", json=body, headers=headers, timeout=5
    )


def send_sms(
    box: SandboxProcess,
    to: str,
    body: str = "Hi Ana, your order has shipped.",
    auth: tuple[str, str] | None = (ACCOUNT_SID, AUTH_TOKEN),
    callback: str | None = None,
    **extra: str,
) -> requests.Response:
    form = {"To": to, "From": "+15005550006", "Body": body, **extra}
    if callback:
        form["StatusCallback"] = callback
    return requests.post(
        f"{box.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
        data=form,
        auth=auth,
        timeout=5,
    )


def meta_statuses(received: list[dict[str, Any]], wamid: str) -> list[dict[str, Any]]:
    statuses = []
    for request in received:
        if request["path"] != "/meta":
            continue
        for entry in json.loads(request["body"])["entry"]:
            for change in entry["changes"]:
                for status in change["value"].get("statuses", []):
                    if status["id"] == wamid:
                        statuses.append(status)
    return statuses


def twilio_callbacks(received: list[dict[str, Any]], sid: str) -> list[dict[str, str]]:
    callbacks = []
    for request in received:
        params = dict(parse_qsl(request["body"].decode()))
        if request["path"].startswith("/twilio/status") and params.get("MessageSid") == sid:
            callbacks.append(params)
    return callbacks


def wait_for_statuses(
    receiver: WebhookReceiver, wamid: str, count: int, timeout: float = 3.0
) -> list[dict[str, Any]]:
    received = receiver.wait_for(lambda r: len(meta_statuses(r, wamid)) >= count, timeout)
    return meta_statuses(received, wamid)


def expected_twilio_signature(url: str, params: dict[str, str]) -> str:
    data = url + "".join(key + params[key] for key in sorted(params))
    digest = hmac.new(AUTH_TOKEN.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


# --- WhatsApp: sends ----------------------------------------------------------


def test_whatsapp_send_response_shape(box: SandboxProcess) -> None:
    response = send_whatsapp(box, "+44 7400 123456", biz_opaque_callback_data="attempt-17")

    assert response.status_code == 200
    body = response.json()
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": "+44 7400 123456", "wa_id": "447400123456"}]
    assert body["messages"][0]["id"].startswith("wamid.")
    assert body["messages"][0]["message_status"] == "accepted"

    [logged] = box.messages("whatsapp")
    assert logged["id"] == body["messages"][0]["id"]
    assert logged["to"] == UK_MOBILE
    assert logged["phone_number_id"] == PHONE_NUMBER_ID
    assert logged["template"] == "order_update"
    assert logged["category"] == "UTILITY"
    assert logged["parameters"] == [
        {"type": "text", "text": "Ana"},
        {"type": "text", "text": "A-1001"},
    ]
    assert logged["biz_opaque_callback_data"] == "attempt-17"


def test_whatsapp_wamids_unique(box: SandboxProcess) -> None:
    ids = {send_whatsapp(box, UK_MOBILE).json()["messages"][0]["id"] for _ in range(5)}

    assert len(ids) == 5


def test_whatsapp_missing_token_is_190(box: SandboxProcess) -> None:
    response = send_whatsapp(box, UK_MOBILE, token=None)

    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == 190
    assert error["type"] == "OAuthException"
    assert "fbtrace_id" in error
    assert box.messages() == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"messaging_product": "sms"}, "messaging_product"),
        ({"to": None}, "to"),
        ({"type": "text"}, "type"),
        ({"template": {"language": {"code": "en_US"}}}, "template.name"),
        ({"template": {"name": "order_update", "language": {}}}, "template.language.code"),
    ],
)
def test_whatsapp_invalid_body_is_100(box: SandboxProcess, change: dict, field: str) -> None:
    body = {
        "messaging_product": "whatsapp",
        "to": UK_MOBILE,
        "type": "template",
        "template": {"name": "order_update", "language": {"code": "en_US"}},
        **change,
    }
    response = requests.post(
        f"{box.url}/v21.0/{PHONE_NUMBER_ID}/messages",
        json=body,
        headers={"Authorization": "Bearer t"},
        timeout=5,
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 100
    assert field in error["error_data"]["details"]


def test_whatsapp_unknown_template_is_132001(box: SandboxProcess) -> None:
    response = send_whatsapp(box, UK_MOBILE, template="no_such_template")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == 132001
    assert box.messages() == []


def test_whatsapp_parameter_count_is_132000(box: SandboxProcess) -> None:
    response = send_whatsapp(box, UK_MOBILE, params=("only one",))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == 132000


def test_whatsapp_templates_listed(box: SandboxProcess) -> None:
    response = requests.get(
        f"{box.url}/v21.0/1234567890/message_templates",
        headers={"Authorization": "Bearer t"},
        timeout=5,
    )

    assert response.status_code == 200
    by_name = {template["name"]: template for template in response.json()["data"]}
    assert by_name["spring_sale"]["category"] == "MARKETING"
    assert by_name["spring_sale"]["status"] == "APPROVED"
    assert by_name["order_update"]["components"] == [
        {"type": "BODY", "text": "Hi {{1}}, your order {{2}} has shipped."}
    ]
    assert by_name["order_update"]["id"]


# --- WhatsApp: outcome rules and webhooks -------------------------------------


def test_whatsapp_delivered_webhooks_signed(box: SandboxProcess, receiver: WebhookReceiver) -> None:
    response = send_whatsapp(box, UK_MOBILE, biz_opaque_callback_data="attempt-5")
    wamid = response.json()["messages"][0]["id"]

    statuses = wait_for_statuses(receiver, wamid, 2)
    assert [status["status"] for status in statuses] == ["sent", "delivered"]
    delivered = statuses[1]
    assert delivered["recipient_id"] == "447400123456"
    assert delivered["biz_opaque_callback_data"] == "attempt-5"
    assert re.fullmatch(r"\d{10}", delivered["timestamp"])
    assert delivered["pricing"] == {
        "billable": True,
        "pricing_model": "PMP",
        "type": "regular",
        "category": "utility",
    }

    request = receiver.received[0]
    envelope = json.loads(request["body"])
    assert envelope["object"] == "whatsapp_business_account"
    change = envelope["entry"][0]["changes"][0]
    assert change["field"] == "messages"
    assert change["value"]["metadata"]["phone_number_id"] == PHONE_NUMBER_ID
    assert change["value"]["metadata"]["display_phone_number"]
    expected = (
        "sha256=" + hmac.new(APP_SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
    )
    assert request["headers"]["X-Hub-Signature-256"] == expected


def test_us_marketing_fails_131049(box: SandboxProcess, receiver: WebhookReceiver) -> None:
    response = send_whatsapp(box, US_NUMBER, template="spring_sale", params=("Ana",))
    wamid = response.json()["messages"][0]["id"]

    assert response.status_code == 200
    [status] = wait_for_statuses(receiver, wamid, 1)
    assert status["status"] == "failed"
    error = status["errors"][0]
    assert error["code"] == 131049
    assert error["title"]
    assert error["error_data"]["details"]
    assert error["href"].startswith("https://")


def test_canada_marketing_is_not_us(box: SandboxProcess, receiver: WebhookReceiver) -> None:
    response = send_whatsapp(box, CANADA_NUMBER, template="spring_sale", params=("Ana",))
    wamid = response.json()["messages"][0]["id"]

    statuses = wait_for_statuses(receiver, wamid, 2)
    assert [status["status"] for status in statuses] == ["sent", "delivered"]


def test_us_utility_delivered(box: SandboxProcess, receiver: WebhookReceiver) -> None:
    wamid = send_whatsapp(box, US_NUMBER).json()["messages"][0]["id"]

    statuses = wait_for_statuses(receiver, wamid, 2)
    assert [status["status"] for status in statuses] == ["sent", "delivered"]


def test_unreachable_share_fails_131026(box: SandboxProcess, receiver: WebhookReceiver) -> None:
    box.configure(unreachable_percent=100)
    wamid = send_whatsapp(box, UK_MOBILE).json()["messages"][0]["id"]

    [status] = wait_for_statuses(receiver, wamid, 1)
    assert status["status"] == "failed"
    assert status["errors"][0]["code"] == 131026


def test_unreachable_share_is_deterministic(box: SandboxProcess) -> None:
    box.configure(unreachable_percent=50)
    numbers = [f"+4474001234{index:02d}" for index in range(40)]
    for number in numbers:
        send_whatsapp(box, number)
    outcomes = [entry["outcome"]["error_code"] for entry in box.messages()]
    box.reset()
    box.configure(unreachable_percent=50)
    for number in numbers:
        send_whatsapp(box, number)
    repeated = [entry["outcome"]["error_code"] for entry in box.messages()]

    assert outcomes == repeated
    assert 0 < outcomes.count(131026) < len(numbers)


def test_fail_code_override(box: SandboxProcess, receiver: WebhookReceiver) -> None:
    box.configure(whatsapp_fail_codes={UK_MOBILE: 131050})
    wamid = send_whatsapp(box, UK_MOBILE).json()["messages"][0]["id"]

    [status] = wait_for_statuses(receiver, wamid, 1)
    assert status["errors"][0]["code"] == 131050


def test_read_percent_adds_read(box: SandboxProcess, receiver: WebhookReceiver) -> None:
    box.configure(read_percent=100)
    wamid = send_whatsapp(box, UK_MOBILE).json()["messages"][0]["id"]

    statuses = wait_for_statuses(receiver, wamid, 3)
    assert [status["status"] for status in statuses] == ["sent", "delivered", "read"]


def test_silent_number_never_delivered(box: SandboxProcess, receiver: WebhookReceiver) -> None:
    box.configure(whatsapp_silent_numbers=[UK_MOBILE], read_percent=100)
    wamid = send_whatsapp(box, UK_MOBILE).json()["messages"][0]["id"]

    wait_for_statuses(receiver, wamid, 1)
    # The delivered and read statuses would be due 20 ms and 40 ms after `sent`.
    time.sleep(0.3)
    statuses = meta_statuses(receiver.received, wamid)
    assert [status["status"] for status in statuses] == ["sent"]
    assert box.messages()[0]["outcome"]["rule"] == "whatsapp_silent_numbers"


def test_sync_error_override_count(box: SandboxProcess) -> None:
    box.configure(whatsapp_sync_errors={UK_MOBILE: {"code": 131000, "times": 2}})

    first = send_whatsapp(box, UK_MOBILE)
    second = send_whatsapp(box, UK_MOBILE)
    third = send_whatsapp(box, UK_MOBILE)

    assert first.status_code == 500
    assert first.json()["error"]["code"] == 131000
    assert second.status_code == 500
    assert third.status_code == 200
    assert len(box.messages()) == 1


def test_sync_error_rate_limit_is_429(box: SandboxProcess) -> None:
    box.configure(whatsapp_sync_errors={UK_MOBILE: {"code": 130429, "times": 1}})

    response = send_whatsapp(box, UK_MOBILE)

    assert response.status_code == 429
    assert response.json()["error"]["code"] == 130429


def test_whatsapp_throughput_cap_130429(box: SandboxProcess) -> None:
    box.configure(whatsapp_mps=3)

    responses = [send_whatsapp(box, UK_MOBILE) for _ in range(4)]

    assert [r.status_code for r in responses[:3]] == [200, 200, 200]
    assert responses[3].status_code == 429
    assert responses[3].json()["error"]["code"] == 130429
    assert len(box.messages("whatsapp")) == 3


def test_duplicate_webhooks_sent_twice(box: SandboxProcess, receiver: WebhookReceiver) -> None:
    box.configure(duplicate_webhooks=True)
    wamid = send_whatsapp(box, UK_MOBILE).json()["messages"][0]["id"]

    statuses = wait_for_statuses(receiver, wamid, 4)
    assert [status["status"] for status in statuses].count("sent") == 2
    assert [status["status"] for status in statuses].count("delivered") == 2


def test_reorder_webhooks_reverses(box: SandboxProcess, receiver: WebhookReceiver) -> None:
    box.configure(reorder_webhooks=True)
    wamid = send_whatsapp(box, UK_MOBILE).json()["messages"][0]["id"]

    statuses = wait_for_statuses(receiver, wamid, 2)
    assert [status["status"] for status in statuses] == ["delivered", "sent"]
    assert int(statuses[0]["timestamp"]) >= int(statuses[1]["timestamp"])


def test_webhook_retried_after_500(box: SandboxProcess, receiver: WebhookReceiver) -> None:
    receiver.fail_next = 1
    box.configure(whatsapp_fail_codes={UK_MOBILE: 131026})
    wamid = send_whatsapp(box, UK_MOBILE).json()["messages"][0]["id"]

    statuses = wait_for_statuses(receiver, wamid, 2, timeout=4.0)
    assert len(statuses) == 2
    assert "Webhook delivery for " + wamid in box.log_text()


# --- WhatsApp: templates ------------------------------------------------------


def test_paused_template_fails_132015(box: SandboxProcess, receiver: WebhookReceiver) -> None:
    template = box.add_template(f"paused_{time.time_ns()}", "Hello {{1}}", category="UTILITY")
    box.template_event(template["id"], "PAUSED", reason="NONE", title="FIRST_PAUSE")
    response = send_whatsapp(box, UK_MOBILE, template=template["name"], params=("Ana",))
    wamid = response.json()["messages"][0]["id"]

    assert response.status_code == 200
    [status] = wait_for_statuses(receiver, wamid, 1)
    assert status["errors"][0]["code"] == 132015


def test_template_event_webhook(box: SandboxProcess, receiver: WebhookReceiver) -> None:
    template = box.add_template(f"promo_{time.time_ns()}", "Hi {{1}}, 10% off today")
    box.template_event(template["id"], "DISABLED", reason="ABUSIVE_CONTENT")

    received = receiver.wait_for(lambda r: len(r) >= 1)
    request = received[0]
    change = json.loads(request["body"])["entry"][0]["changes"][0]
    assert change["field"] == "message_template_status_update"
    assert change["value"]["event"] == "DISABLED"
    assert str(change["value"]["message_template_id"]) == template["id"]
    assert change["value"]["message_template_name"] == template["name"]
    assert change["value"]["message_template_language"] == "en_US"
    assert change["value"]["reason"] == "ABUSIVE_CONTENT"
    expected = (
        "sha256=" + hmac.new(APP_SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
    )
    assert request["headers"]["X-Hub-Signature-256"] == expected

    response = send_whatsapp(box, UK_MOBILE, template=template["name"], params=("Ana",))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 132016


# --- WhatsApp: inbound events -------------------------------------------------


def test_inbound_whatsapp_text(box: SandboxProcess, receiver: WebhookReceiver) -> None:
    response = requests.post(
        f"{box.url}/_sandbox/inbound/whatsapp",
        json={"phone_number_id": PHONE_NUMBER_ID, "from": UK_MOBILE, "text": "STOP"},
        timeout=5,
    )

    assert response.status_code == 202
    [request] = receiver.wait_for(lambda r: len(r) >= 1)
    value = json.loads(request["body"])["entry"][0]["changes"][0]["value"]
    assert value["messages"][0]["from"] == "447400123456"
    assert value["messages"][0]["type"] == "text"
    assert value["messages"][0]["text"] == {"body": "STOP"}
    assert value["metadata"]["phone_number_id"] == PHONE_NUMBER_ID


def test_user_preferences_stop(box: SandboxProcess, receiver: WebhookReceiver) -> None:
    response = requests.post(
        f"{box.url}/_sandbox/user-preferences",
        json={"phone_number_id": PHONE_NUMBER_ID, "from": UK_MOBILE, "value": "stop"},
        timeout=5,
    )

    assert response.status_code == 202
    [request] = receiver.wait_for(lambda r: len(r) >= 1)
    change = json.loads(request["body"])["entry"][0]["changes"][0]
    assert change["field"] == "user_preferences"
    assert change["value"]["user_preferences"][0]["category"] == "marketing_messages"
    assert change["value"]["user_preferences"][0]["value"] == "stop"


# --- Twilio -------------------------------------------------------------------


def test_sms_send_response_shape(box: SandboxProcess) -> None:
    response = send_sms(box, UK_MOBILE, body="a" * 161)

    assert response.status_code == 201
    message = response.json()
    assert re.fullmatch(r"SM[0-9a-f]{32}", message["sid"])
    assert message["status"] == "queued"
    assert message["num_segments"] == "2"
    assert message["price"] is None
    assert message["error_code"] is None
    assert message["to"] == UK_MOBILE
    assert message["from"] == "+15005550006"
    assert message["account_sid"] == ACCOUNT_SID
    assert message["date_created"]
    [logged] = box.messages("sms")
    assert logged["id"] == message["sid"]
    assert logged["num_segments"] == 2


def test_sms_unicode_segments(box: SandboxProcess) -> None:
    response = send_sms(box, UK_MOBILE, body="Hi Ana 😀 " + "x" * 61)

    assert response.json()["num_segments"] == "2"


@pytest.mark.parametrize(
    "auth",
    [None, ("AC" + "1" * 32, AUTH_TOKEN), (ACCOUNT_SID, "")],
    ids=["missing", "other-account", "empty-token"],
)
def test_sms_auth_failure_is_20003(box: SandboxProcess, auth: Any) -> None:
    response = send_sms(box, UK_MOBILE, auth=auth)

    assert response.status_code == 401
    assert response.json()["code"] == 20003
    assert response.json()["more_info"] == "https://www.twilio.com/docs/errors/20003"
    assert response.json()["status"] == 401


def test_sms_invalid_to_is_21211(box: SandboxProcess) -> None:
    response = send_sms(box, "12")

    assert response.status_code == 400
    assert response.json()["code"] == 21211


def test_sms_stop_list_is_21610(box: SandboxProcess) -> None:
    box.configure(sms_stop_numbers=[UK_MOBILE])

    response = send_sms(box, UK_MOBILE)

    assert response.status_code == 400
    assert response.json()["code"] == 21610
    assert box.messages("sms") == []


def test_sms_long_body_is_21617(box: SandboxProcess) -> None:
    response = send_sms(box, UK_MOBILE, body="a" * 1601)

    assert response.status_code == 400
    assert response.json()["code"] == 21617


def test_sms_needs_one_sender(box: SandboxProcess) -> None:
    response = send_sms(box, UK_MOBILE, MessagingServiceSid="MG" + "0" * 32)

    assert response.status_code == 400
    assert response.json()["code"] == 21603


def test_sms_callbacks_signed(box: SandboxProcess, receiver: WebhookReceiver) -> None:
    callback = receiver.url("/twilio/status?attempt=42")
    sid = send_sms(box, UK_MOBILE, callback=callback).json()["sid"]

    received = receiver.wait_for(lambda r: len(twilio_callbacks(r, sid)) >= 2)
    callbacks = twilio_callbacks(received, sid)
    assert [c["MessageStatus"] for c in callbacks] == ["sent", "delivered"]
    assert callbacks[1]["SmsStatus"] == "delivered"
    assert callbacks[1]["AccountSid"] == ACCOUNT_SID
    assert callbacks[1]["ApiVersion"] == "2010-04-01"
    assert callbacks[1]["To"] == UK_MOBILE
    assert "ErrorCode" not in callbacks[1]
    request = received[-1]
    params = dict(parse_qsl(request["body"].decode()))
    assert request["path"] == "/twilio/status?attempt=42"
    assert request["headers"]["X-Twilio-Signature"] == expected_twilio_signature(callback, params)


def test_sms_landline_undelivered_30006(box: SandboxProcess, receiver: WebhookReceiver) -> None:
    sid = send_sms(box, UK_LANDLINE, callback=receiver.url("/twilio/status")).json()["sid"]

    received = receiver.wait_for(lambda r: len(twilio_callbacks(r, sid)) >= 2)
    callbacks = twilio_callbacks(received, sid)
    assert [c["MessageStatus"] for c in callbacks] == ["sent", "undelivered"]
    assert callbacks[1]["ErrorCode"] == "30006"


def test_sms_fail_code_override(box: SandboxProcess, receiver: WebhookReceiver) -> None:
    box.configure(sms_fail_codes={UK_MOBILE: 30007})
    sid = send_sms(box, UK_MOBILE, callback=receiver.url("/twilio/status")).json()["sid"]

    received = receiver.wait_for(lambda r: len(twilio_callbacks(r, sid)) >= 2)
    callbacks = twilio_callbacks(received, sid)
    assert callbacks[-1]["MessageStatus"] == "undelivered"
    assert callbacks[-1]["ErrorCode"] == "30007"


def test_sms_throughput_cap_20429(box: SandboxProcess) -> None:
    box.configure(sms_mps=2)

    responses = [send_sms(box, UK_MOBILE) for _ in range(3)]

    assert [r.status_code for r in responses[:2]] == [201, 201]
    assert responses[2].status_code == 429
    assert responses[2].json()["code"] == 20429


def test_sms_callback_must_be_loopback(box: SandboxProcess) -> None:
    response = send_sms(box, UK_MOBILE, callback="https://example.com/status")

    assert response.status_code == 400
    assert response.json()["code"] == 21609


def test_inbound_sms_stop_signed(box: SandboxProcess, receiver: WebhookReceiver) -> None:
    response = requests.post(
        f"{box.url}/_sandbox/inbound/sms",
        json={
            "from": UK_MOBILE,
            "to": "+15005550006",
            "body": " stop ",
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
        },
        timeout=5,
    )

    assert response.status_code == 202
    [request] = receiver.wait_for(lambda r: len(r) >= 1)
    params = dict(parse_qsl(request["body"].decode(), keep_blank_values=True))
    assert request["path"] == "/twilio/inbound"
    assert params["OptOutType"] == "STOP"
    assert params["From"] == UK_MOBILE
    assert params["Body"] == " stop "
    assert params["NumSegments"] == "1"
    signature = expected_twilio_signature(receiver.url("/twilio/inbound"), params)
    assert request["headers"]["X-Twilio-Signature"] == signature


# --- faults and control -------------------------------------------------------


def test_5xx_fault_not_logged(box: SandboxProcess) -> None:
    box.configure(error_5xx_percent=100)

    first = send_whatsapp(box, UK_MOBILE)
    second = send_whatsapp(box, UK_MOBILE)
    sms = send_sms(box, UK_MOBILE)

    assert first.status_code == 500
    assert first.json()["error"]["code"] == 131000
    assert second.status_code == 503
    assert second.json()["error"]["code"] == 2
    assert sms.status_code == 500
    assert sms.json()["code"] == 20500
    assert box.messages() == []


def test_5xx_fault_spread_evenly(box: SandboxProcess) -> None:
    box.configure(error_5xx_percent=25)

    codes = [send_whatsapp(box, UK_MOBILE).status_code for _ in range(8)]

    assert codes == [200, 200, 200, 500, 200, 200, 200, 503]


def test_hang_logs_message(box: SandboxProcess) -> None:
    box.configure(hang_percent=100, hang_seconds=1)

    with pytest.raises(requests.Timeout):
        requests.post(
            f"{box.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
            data={"To": UK_MOBILE, "From": "+15005550006", "Body": "hi"},
            auth=(ACCOUNT_SID, AUTH_TOKEN),
            timeout=0.3,
        )
    assert len(box.messages("sms")) == 1


def test_latency_delays_answer(box: SandboxProcess) -> None:
    box.configure(latency_ms=250)

    started = time.monotonic()
    send_whatsapp(box, UK_MOBILE)

    assert time.monotonic() - started >= 0.25


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"latency_ms": "fast"}, "latency_ms"),
        ({"unreachable_percent": 101}, "unreachable_percent"),
        ({"whatsapp_mps": 0}, "whatsapp_mps"),
        ({"duplicate_webhooks": "yes"}, "duplicate_webhooks"),
        ({"whatsapp_fail_codes": {"not a number": 131050}}, "whatsapp_fail_codes"),
        ({"whatsapp_silent_numbers": "+447400123456"}, "whatsapp_silent_numbers"),
        ({"no_such_key": 1}, "no_such_key"),
    ],
)
def test_bad_config_names_key(box: SandboxProcess, change: dict, key: str) -> None:
    response = requests.put(f"{box.url}/_sandbox/config", json=change, timeout=5)

    assert response.status_code == 400
    assert key in response.json()["error"]


def test_config_merge_keeps_others(box: SandboxProcess) -> None:
    box.configure(latency_ms=5)
    config = box.configure(sms_mps=7)

    assert config["latency_ms"] == 5
    assert config["sms_mps"] == 7
    assert config["webhook_delay_ms"] == 20


def test_messages_filter_by_channel(box: SandboxProcess) -> None:
    send_whatsapp(box, UK_MOBILE)
    send_sms(box, UK_MOBILE)

    assert [m["channel"] for m in box.messages("whatsapp")] == ["whatsapp"]
    assert [m["channel"] for m in box.messages("sms")] == ["sms"]
    assert len(box.messages()) == 2


def test_log_has_no_secrets(box: SandboxProcess, receiver: WebhookReceiver) -> None:
    send_sms(box, UK_MOBILE, callback=receiver.url("/twilio/status"))
    receiver.wait_for(lambda r: len(r) >= 2)
    log = box.log_text()

    assert "Sandbox listening on http://127.0.0.1:" in log
    assert APP_SECRET not in log
    assert AUTH_TOKEN not in log


@pytest.mark.parametrize(
    "args",
    [
        ["--host", "0.0.0.0", "--meta-webhook-url", "http://127.0.0.1:9/w"],
        ["--meta-webhook-url", "http://192.0.2.1/w"],
        ["--meta-webhook-url", "http://127.0.0.1:9/w", "--twilio-inbound-url", "http://a.test/"],
    ],
    ids=["host", "meta-url", "twilio-url"],
)
def test_cli_rejects_non_loopback(args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "messaging.sandbox", "--meta-app-secret", "s", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=10,
    )

    assert result.returncode == 2
    assert "loopback" in result.stderr or "127.0.0.0/8" in result.stderr


def test_message_log_frozen_for_gc() -> None:
    log = MessageLog()
    before = gc.get_freeze_count()
    try:
        for number in range(FREEZE_EVERY):
            log.append({"channel": "whatsapp", "to": f"+4474{number:08d}", "meta": {}})

        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()
