"""The reasons a recipient was skipped, routed or left without fallback, in words.

Provider error codes are reasons too; their words come from the fallback policy table.
"""

from messaging.policy import SMS_RULES, WHATSAPP_RULES

INVALID_NUMBER = "invalid_number"
DUPLICATE_NUMBER = "duplicate_number"
NO_CONSENT = "no_consent"
US_MARKETING = "us_marketing"
WHATSAPP_UNREACHABLE = "whatsapp_unreachable"
WHATSAPP_OPT_OUT = "whatsapp_opt_out"
SMS_OPT_OUT = "sms_opt_out"
LANDLINE = "landline"
SMS_COUNTRY_NOT_ENABLED = "sms_country_not_enabled"
SMS_NOT_CONFIGURED = "sms_not_configured"
NO_SMS_TEXT = "no_sms_text"
FALLBACK_OFF = "fallback_off"
CAMPAIGN_CANCELLED = "campaign_cancelled"
TEMPLATE_PAUSED = "template_paused"
TEMPLATE_DISABLED = "template_disabled"
TEMPLATE_REJECTED = "template_rejected"
NO_DELIVERY_REPORT = "no_delivery_report"
OUTCOME_UNKNOWN = "outcome_unknown"

WORDS = {
    INVALID_NUMBER: "the phone number is not a valid number",
    DUPLICATE_NUMBER: "the same number is already in this campaign",
    NO_CONSENT: "no channel the contact has not opted out of can reach them",
    US_MARKETING: "Meta refuses MARKETING templates to US numbers (131049), so SMS goes direct",
    WHATSAPP_UNREACHABLE: "WhatsApp reported the number undeliverable (131026) in the last 30 days",
    WHATSAPP_OPT_OUT: "the contact opted out of WhatsApp marketing",
    SMS_OPT_OUT: "the contact opted out of SMS",
    LANDLINE: "the number is a landline and cannot take SMS",
    SMS_COUNTRY_NOT_ENABLED: "SMS to this country is not enabled for the sub-account",
    SMS_NOT_CONFIGURED: "the sub-account has no SMS sender configured",
    NO_SMS_TEXT: "the campaign has no fallback SMS text",
    FALLBACK_OFF: "fallback to SMS is off for this campaign",
    CAMPAIGN_CANCELLED: "the campaign was cancelled",
    TEMPLATE_PAUSED: "Meta paused the template",
    TEMPLATE_DISABLED: "Meta disabled the template",
    TEMPLATE_REJECTED: "Meta rejected the template",
    NO_DELIVERY_REPORT: "WhatsApp reported no delivery within the campaign's timeout",
    OUTCOME_UNKNOWN: (
        "the request got no response and no status webhook came; it may have been sent, "
        "so it is not sent again"
    ),
}


def describe(reason: str) -> str:
    """Return a reason in words: a known reason, a provider code, or several joined by '/'."""
    return "; then ".join(_describe_one(part) for part in reason.split("/") if part)


def _describe_one(reason: str) -> str:
    if reason in WORDS:
        return WORDS[reason]
    rule = WHATSAPP_RULES.get(reason) or SMS_RULES.get(reason)
    return f"{reason}: {rule.description}" if rule else reason
