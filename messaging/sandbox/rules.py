"""Outcome rules: which statuses a send gets after it is accepted, decided from config.

Rules are checked in order and the first match wins, so an explicit per-number
override in config beats every implicit rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .phones import in_share, is_landline, is_us_number
from .state import Template

# Twilio reports these as `failed` because the message never left Twilio. Other
# error codes come after `sent` as `undelivered`: a carrier or handset refused it.
SMS_FAILED_BEFORE_CARRIER = frozenset({30001, 30002, 30034, 30036, 30410})


@dataclass(frozen=True)
class Outcome:
    """Statuses in the order they happen, and the error code of the final failure."""

    statuses: tuple[str, ...]
    error_code: int | None = None
    # The rule that chose this outcome, shown in the message log for debugging.
    rule: str = "default"


def whatsapp_outcome(config: Mapping[str, Any], e164: str, template: Template) -> Outcome:
    override = config["whatsapp_fail_codes"].get(e164)
    if override is not None:
        return Outcome(("failed",), override, "whatsapp_fail_codes")

    if template.status == "PAUSED":
        return Outcome(("failed",), 132015, "template_paused")

    # Meta has held back marketing templates to US numbers since 2025-04-01.
    if template.category == "MARKETING" and is_us_number(e164):
        return Outcome(("failed",), 131049, "us_marketing")

    if in_share(e164, config["unreachable_percent"], "unreachable"):
        return Outcome(("failed",), 131026, "unreachable_percent")

    if e164 in config["whatsapp_silent_numbers"]:
        return Outcome(("sent",), None, "whatsapp_silent_numbers")

    if in_share(e164, config["read_percent"], "read"):
        return Outcome(("sent", "delivered", "read"))
    return Outcome(("sent", "delivered"))


def sms_outcome(config: Mapping[str, Any], e164: str) -> Outcome:
    override = config["sms_fail_codes"].get(e164)
    if override is not None:
        if override in SMS_FAILED_BEFORE_CARRIER:
            return Outcome(("failed",), override, "sms_fail_codes")
        return Outcome(("sent", "undelivered"), override, "sms_fail_codes")

    if is_landline(e164):
        return Outcome(("sent", "undelivered"), 30006, "landline")

    return Outcome(("sent", "delivered"))


OPT_OUT_KEYWORDS = {
    **dict.fromkeys(
        ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"), "STOP"
    ),
    **dict.fromkeys(("START", "UNSTOP", "YES"), "START"),
    **dict.fromkeys(("HELP", "INFO"), "HELP"),
}


def opt_out_type(body: str) -> str | None:
    """Return Twilio's OptOutType for a body that is exactly one keyword, any case."""
    return OPT_OUT_KEYWORDS.get(body.strip().upper())
