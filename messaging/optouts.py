"""Opt-outs and opt-ins from people's replies: SMS keywords through Twilio, "STOP" on
WhatsApp and Meta's marketing-message preference.

Consent is per sub-account and per channel: an SMS STOP to one client's number ends SMS
from that client only, and leaves WhatsApp consent as it was.
"""

import logging
from typing import Any
from urllib.parse import parse_qs

from django.db.models import Q
from django.utils import timezone

from campaigns.models import Contact, SubAccount

from .models import ProviderEvent

logger = logging.getLogger(__name__)

STOP, START = "stop", "start"

# Twilio's default opt-out and opt-in keywords, matched against the whole message in any case.
SMS_KEYWORDS = {
    **dict.fromkeys(
        ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"), STOP
    ),
    **dict.fromkeys(("START", "UNSTOP", "YES"), START),
}
# Twilio's OptOutType when it matched a keyword itself; HELP changes no consent.
OPT_OUT_TYPES = {"STOP": STOP, "START": START}
WHATSAPP_KEYWORDS = {"STOP": STOP, "START": START}


def sms_keyword_action(body: str, opt_out_type: str = "") -> str:
    """Return "stop", "start" or "" for an inbound SMS."""
    # NOTE: since 2025-04-11 US rules also count free-form requests ("please stop") as an
    # opt-out; only whole-message keywords are recognised here.
    return OPT_OUT_TYPES.get(opt_out_type.upper()) or SMS_KEYWORDS.get(body.strip().upper(), "")


def sms_sub_accounts(account_sid: str, to: str) -> list[SubAccount]:
    """Return the sub-accounts whose SMS sender is `to` on Twilio account `account_sid`."""
    if not account_sid or not to:
        return []
    return list(SubAccount.objects.filter(twilio_account_sid=account_sid, sms_from_number=to))


def set_consent(
    sub_account_ids: list[int], phone: str, channel: str, action: str, source: str
) -> int:
    """Opt the contact with this number out of (or back into) one channel; return how many
    contacts changed."""
    contacts = Contact.objects.filter(sub_account_id__in=sub_account_ids, phone=phone)
    at_field, source_field = f"{channel}_opt_out_at", f"{channel}_opt_out_source"
    if action == STOP:
        # The first opt-out's time and source are kept: that is when consent ended.
        changed = contacts.filter(Q(**{f"{at_field}__isnull": True})).update(
            **{at_field: timezone.now(), source_field: source[:64], "updated_at": timezone.now()}
        )
    else:
        changed = contacts.filter(Q(**{f"{at_field}__isnull": False})).update(
            **{at_field: None, source_field: "", "updated_at": timezone.now()}
        )
    logger.info(
        "%s %s for %s in sub-accounts %s from %s: %s contacts changed",
        channel,
        action,
        phone,
        sub_account_ids,
        source,
        changed,
    )
    return changed


def process_twilio_inbound(event_id: int) -> None:
    """RQ job: apply the opt-out or opt-in keyword of a stored inbound SMS."""
    event = ProviderEvent.objects.get(pk=event_id)
    form = {key: values[-1] for key, values in parse_qs(event.body).items()}
    action = sms_keyword_action(form.get("Body", ""), form.get("OptOutType", ""))
    problems = ""
    if action:
        sub_accounts = sms_sub_accounts(form.get("AccountSid", ""), form.get("To", ""))
        source = f"sms reply {form.get('Body', '').strip().upper()[:20]}"
        ids = [sub_account.pk for sub_account in sub_accounts]
        if not set_consent(ids, form.get("From", ""), "sms", action, source):
            problems = f"no contact changed by {action} from {form.get('From', '')}"
    event.kind = f"inbound_sms:{action or 'other'}"
    event.processed_at = timezone.now()
    event.error = problems
    event.save(update_fields=["kind", "processed_at", "error"])


def apply_whatsapp_messages(value: dict[str, Any]) -> list[str]:
    """Apply "STOP" and "START" replies on WhatsApp; other messages are only stored."""
    problems = []
    sub_account_ids = _whatsapp_sub_account_ids(value)
    for message in value.get("messages") or []:
        text = ((message.get("text") or {}).get("body") or "").strip().upper()
        if message.get("type") == "button":
            text = ((message.get("button") or {}).get("payload") or "").strip().upper()
        action = WHATSAPP_KEYWORDS.get(text)
        if not action:
            continue
        phone = "+" + str(message.get("from", "")).lstrip("+")
        if not set_consent(sub_account_ids, phone, "whatsapp", action, f"whatsapp reply {text}"):
            problems.append(f"{message.get('id')}: no contact {phone} for {action}")
    return problems


def apply_user_preferences(value: dict[str, Any]) -> list[str]:
    """Apply Meta's marketing-message preference: "stop" opts out of WhatsApp, "resume" in."""
    problems = []
    sub_account_ids = _whatsapp_sub_account_ids(value)
    for preference in value.get("user_preferences") or []:
        if preference.get("category") != "marketing_messages":
            continue
        preference_action = {"stop": STOP, "resume": START}.get(
            str(preference.get("value", "")).lower()
        )
        phone = "+" + str(preference.get("wa_id", "")).lstrip("+")
        if preference_action is None:
            problems.append(f"{phone}: preference {preference.get('value')!r} not acted on")
            continue
        source = "whatsapp marketing preference"
        if not set_consent(sub_account_ids, phone, "whatsapp", preference_action, source):
            problems.append(f"{phone}: no contact changed by {preference_action}")
    return problems


def _whatsapp_sub_account_ids(value: dict[str, Any]) -> list[int]:
    phone_number_id = str((value.get("metadata") or {}).get("phone_number_id", ""))
    if not phone_number_id:
        return []
    return list(
        SubAccount.objects.filter(whatsapp_phone_number_id=phone_number_id).values_list(
            "pk", flat=True
        )
    )
