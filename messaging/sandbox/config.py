"""Runtime configuration of the sandbox: defaults, validation and merging.

The configuration is an immutable snapshot. `PUT /_sandbox/config` builds a new
snapshot and swaps it in, so the request path reads it without a lock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from .phones import normalize_number

DEFAULTS: dict[str, Any] = {
    # Share of recipient numbers (0-100) that fail on WhatsApp with 131026,
    # chosen by a hash of the number so the same number always fails.
    "unreachable_percent": 10,
    # {"+15551234567": 131050}: WhatsApp numbers that fail with this code by webhook.
    "whatsapp_fail_codes": {},
    # {"+15551234567": {"code": 131000, "times": 2}}: synchronous errors for the
    # first `times` sends to the number.
    "whatsapp_sync_errors": {},
    # WhatsApp numbers whose messages get `sent` and never `delivered` or `read`, like a
    # phone that stays offline.
    "whatsapp_silent_numbers": [],
    # {"+15551234567": 30007}: SMS numbers whose status callbacks end with this code.
    "sms_fail_codes": {},
    # Numbers that replied STOP: sends are rejected with 400 code 21610.
    "sms_stop_numbers": [],
    # Max accepted sends per second per phone_number_id (WhatsApp) or per Twilio
    # account (SMS). None means unlimited.
    "whatsapp_mps": None,
    "sms_mps": None,
    # Delay added before responding to every provider call.
    "latency_ms": 0,
    # Share of provider calls (0-100) that get a 500/503 error, spread evenly by a counter.
    "error_5xx_percent": 0,
    # Share of accepted sends (0-100) that sleep `hang_seconds` before responding.
    "hang_percent": 0,
    "hang_seconds": 30,
    # Delay between a send and its first webhook, and between its later webhooks.
    "webhook_delay_ms": 200,
    "duplicate_webhooks": False,
    "reorder_webhooks": False,
    # Share of delivered WhatsApp messages (0-100) that also get a `read` status,
    # chosen by a hash of the number.
    "read_percent": 0,
    # Max WhatsApp statuses merged into one webhook POST when several are due at
    # once. Meta batches under load too, so receivers must handle several.
    "webhook_batch_size": 50,
    # The WhatsApp Business Account id put in `entry[].id` of every Meta webhook.
    "waba_id": "102290129340398",
    # {phone_number_id: "15550001234"}: the `display_phone_number` of webhooks.
    # Ids not listed get a number derived from the id.
    "display_phone_numbers": {},
}


class ConfigError(ValueError):
    """A configuration value has the wrong type or range. The message names the key."""


def _expect(key: str, ok: bool, expected: str, value: Any) -> None:
    if not ok:
        raise ConfigError(f"invalid value for {key!r}: expected {expected}, got {value!r}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _percent(key: str, value: Any) -> float:
    _expect(key, _is_number(value) and 0 <= value <= 100, "a number from 0 to 100", value)
    return value


def _non_negative_int(key: str, value: Any) -> int:
    _expect(key, _is_int(value) and value >= 0, "a non-negative integer", value)
    return value


def _non_negative_number(key: str, value: Any) -> float:
    _expect(key, _is_number(value) and value >= 0, "a non-negative number", value)
    return value


def _optional_rate(key: str, value: Any) -> int | None:
    ok = value is None or (_is_int(value) and value > 0)
    _expect(key, ok, "a positive integer or null (unlimited)", value)
    return value


def _positive_int(key: str, value: Any) -> int:
    _expect(key, _is_int(value) and value > 0, "a positive integer", value)
    return value


def _boolean(key: str, value: Any) -> bool:
    _expect(key, isinstance(value, bool), "true or false", value)
    return value


def _string(key: str, value: Any) -> str:
    _expect(key, isinstance(value, str) and value != "", "a non-empty string", value)
    return value


def _number_key(key: str, number: Any) -> str:
    normalized = normalize_number(number) if isinstance(number, str) else None
    _expect(key, normalized is not None, "phone numbers in E.164 form as keys", number)
    assert normalized is not None
    return normalized


def _code_map(key: str, value: Any) -> dict[str, int]:
    expected = 'an object of E.164 number to integer error code, e.g. {"+15551234567": 131050}'
    _expect(key, isinstance(value, dict), expected, value)
    result = {}
    for number, code in value.items():
        _expect(key, _is_int(code), expected, value)
        result[_number_key(key, number)] = code
    return result


def _sync_error_map(key: str, value: Any) -> dict[str, dict[str, int]]:
    expected = (
        'an object of E.164 number to {"code": int, "times": positive int}, '
        'e.g. {"+15551234567": {"code": 131000, "times": 2}}'
    )
    _expect(key, isinstance(value, dict), expected, value)
    result = {}
    for number, rule in value.items():
        _expect(key, isinstance(rule, dict) and _is_int(rule.get("code")), expected, value)
        times = rule.get("times", 1)
        _expect(key, _is_int(times) and times > 0, expected, value)
        result[_number_key(key, number)] = {"code": rule["code"], "times": times}
    return result


def _number_list(key: str, value: Any) -> list[str]:
    _expect(key, isinstance(value, list), "a list of E.164 numbers", value)
    return [_number_key(key, number) for number in value]


def _string_map(key: str, value: Any) -> dict[str, str]:
    expected = "an object of string to string"
    _expect(key, isinstance(value, dict), expected, value)
    for item in value.values():
        _expect(key, isinstance(item, str), expected, value)
    return dict(value)


VALIDATORS: dict[str, Callable[[str, Any], Any]] = {
    "unreachable_percent": _percent,
    "whatsapp_fail_codes": _code_map,
    "whatsapp_sync_errors": _sync_error_map,
    "whatsapp_silent_numbers": _number_list,
    "sms_fail_codes": _code_map,
    "sms_stop_numbers": _number_list,
    "whatsapp_mps": _optional_rate,
    "sms_mps": _optional_rate,
    "latency_ms": _non_negative_int,
    "error_5xx_percent": _percent,
    "hang_percent": _percent,
    "hang_seconds": _non_negative_number,
    "webhook_delay_ms": _non_negative_int,
    "duplicate_webhooks": _boolean,
    "reorder_webhooks": _boolean,
    "read_percent": _percent,
    "webhook_batch_size": _positive_int,
    "waba_id": _string,
    "display_phone_numbers": _string_map,
}


def default_config() -> Mapping[str, Any]:
    return MappingProxyType(dict(DEFAULTS))


def merge_config(current: Mapping[str, Any], changes: Any) -> Mapping[str, Any]:
    """Return a new snapshot where each key in `changes` replaces that key's whole value.

    Keys not in `changes` keep their current value. Raises ConfigError on an unknown
    key or a bad value, leaving `current` untouched.
    """
    if not isinstance(changes, dict):
        raise ConfigError("invalid config: expected a JSON object of settings")
    merged = dict(current)
    for key, value in changes.items():
        validator = VALIDATORS.get(key)
        if validator is None:
            known = ", ".join(sorted(VALIDATORS))
            raise ConfigError(f"unknown config key {key!r}; known keys: {known}")
        merged[key] = validator(key, value)
    return MappingProxyType(merged)


def to_json(config: Mapping[str, Any]) -> dict[str, Any]:
    return dict(config)
