"""Provider webhook bodies shaped like the real ones, and their signatures."""

import base64
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode


def whatsapp_status(
    wamid: str,
    status: str,
    *,
    attempt_id: int | None = None,
    code: int | None = None,
    title: str = "",
    phone_number_id: str = "1000000001",
    recipient: str = "447700900001",
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(int(time.time())),
        "recipient_id": recipient,
    }
    if attempt_id is not None:
        item["biz_opaque_callback_data"] = f"attempt:{attempt_id}"
    if code is not None:
        item["errors"] = [
            {
                "code": code,
                "title": title,
                "message": title,
                "error_data": {"details": title},
                "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
            }
        ]
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "2000000001",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550100001",
                                "phone_number_id": phone_number_id,
                            },
                            "statuses": [item],
                        },
                    }
                ],
            }
        ],
    }


def meta_signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


def twilio_signature(url: str, params: dict[str, str], token: str) -> str:
    data = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    digest = hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_form(params: dict[str, str]) -> str:
    return urlencode(params)
