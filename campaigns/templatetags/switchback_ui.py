"""Template filters of the marketer UI."""

from django import template

register = template.Library()

# Recipient and attempt states as the delivery log shows them.
STATE_WORDS = {
    "pending": "waiting to send",
    "whatsapp_sending": "sending on WhatsApp",
    "whatsapp_sent": "sent on WhatsApp",
    "sms_pending": "waiting to send SMS",
    "sms_sending": "sending SMS",
    "sms_sent": "SMS sent",
    "delivered_whatsapp": "delivered on WhatsApp",
    "delivered_sms": "delivered by SMS",
    "failed_whatsapp": "failed on WhatsApp",
    "failed_both": "failed on both channels",
    "skipped": "skipped",
    "cancelled": "cancelled",
}


@register.filter
def state_words(value: str) -> str:
    return STATE_WORDS.get(value, value.replace("_", " "))
