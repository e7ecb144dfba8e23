"""What Switchback does with each provider error code.

The classes are Switchback's policy, not the providers': fall back to SMS, retry with
backoff, or stop (terminal). Sources: Meta's Cloud API error-code page and Twilio's error
pages, as summarised in the project's provider notes. Unknown codes are retried a few
times, then treated as terminal and logged for review.
"""

import logging
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from campaigns.models import SubAccount

logger = logging.getLogger(__name__)


class Action(StrEnum):
    FALLBACK = "fallback"
    RETRY = "retry"
    TERMINAL = "terminal"


class Halt(StrEnum):
    NONE = ""
    TEMPLATE = "template"
    CAMPAIGN = "campaign"


class Learn(StrEnum):
    """A fact about the contact that an error code teaches, kept for later campaigns."""

    NONE = ""
    WHATSAPP_UNREACHABLE = "whatsapp_unreachable"
    WHATSAPP_OPT_OUT = "whatsapp_opt_out"
    SMS_OPT_OUT = "sms_opt_out"
    LANDLINE = "landline"


@dataclass(frozen=True)
class Rule:
    action: Action
    description: str
    # For RETRY: how many tries after the first, and what happens when they run out.
    max_retries: int = 0
    exhausted: Action = Action.TERMINAL
    halt: Halt = Halt.NONE
    learn: Learn = Learn.NONE


def _rules(codes: tuple[int | str, ...], rule: Rule) -> dict[str, Rule]:
    return {str(code): rule for code in codes}


FB, RETRY, TERMINAL = Action.FALLBACK, Action.RETRY, Action.TERMINAL

WHATSAPP_RULES: dict[str, Rule] = {
    **_rules(
        (131049,), Rule(FB, "Meta held the message back (marketing cap or US marketing pause)")
    ),
    **_rules(
        (131026,),
        Rule(FB, "number not reachable on WhatsApp", learn=Learn.WHATSAPP_UNREACHABLE),
    ),
    **_rules(
        (131050,),
        Rule(FB, "person stopped marketing messages on WhatsApp", learn=Learn.WHATSAPP_OPT_OUT),
    ),
    **_rules((130472,), Rule(FB, "person is part of a Meta experiment")),
    **_rules((131047,), Rule(FB, "more than 24 hours since the person last replied")),
    **_rules((130497,), Rule(FB, "business cannot message people in this country")),
    **_rules((131048,), Rule(FB, "spam rate limit on the sender's quality")),
    **_rules(
        (131064,), Rule(FB, "messaging limited after template violations", halt=Halt.TEMPLATE)
    ),
    **_rules((132015, 132016), Rule(FB, "template paused or disabled", halt=Halt.TEMPLATE)),
    **_rules(
        (132001, 132007),
        Rule(FB, "template missing, not approved or against policy", halt=Halt.TEMPLATE),
    ),
    **_rules(
        (131056,),
        Rule(RETRY, "too many messages to this person", max_retries=3, exhausted=FB),
    ),
    **_rules((130429,), Rule(RETRY, "sender throughput limit reached", max_retries=5)),
    **_rules((4, 80007), Rule(RETRY, "API call rate limit reached", max_retries=5)),
    **_rules(
        (1, 2, 131016, 133004, 131057),
        Rule(RETRY, "temporary error at Meta", max_retries=4),
    ),
    **_rules((131000,), Rule(RETRY, "unknown error at Meta", max_retries=3, exhausted=FB)),
    **_rules((135000,), Rule(RETRY, "unknown parameter error", max_retries=1)),
    **_rules(
        (0, 3, 10, 190, *range(200, 300), 131005),
        Rule(TERMINAL, "WhatsApp credentials or permissions rejected", halt=Halt.CAMPAIGN),
    ),
    **_rules(
        (100, 131008, 131009, 132000, 132005, 132012),
        Rule(TERMINAL, "bad, missing or mismatched template parameters"),
    ),
    **_rules(
        (133010, 131045, 33, 131037),
        Rule(TERMINAL, "sender number not registered or not approved", halt=Halt.CAMPAIGN),
    ),
    **_rules(
        (368, 131031, 131042, 134011),
        Rule(TERMINAL, "WhatsApp account restricted, locked or unpaid", halt=Halt.CAMPAIGN),
    ),
    **_rules(
        (130403, 131021, 131030, 131051, 131053),
        Rule(TERMINAL, "WhatsApp cannot send this message to this person"),
    ),
}

SMS_RULES: dict[str, Rule] = {
    **_rules((21211,), Rule(TERMINAL, "invalid destination number")),
    **_rules((21408,), Rule(TERMINAL, "SMS to this country is not enabled", halt=Halt.CAMPAIGN)),
    **_rules(
        (21610,), Rule(TERMINAL, "person replied STOP to this sender", learn=Learn.SMS_OPT_OUT)
    ),
    **_rules((21612,), Rule(TERMINAL, "number not reachable from this sender")),
    **_rules(
        (21614, 21635, 30006),
        Rule(TERMINAL, "landline or number that cannot take SMS", learn=Learn.LANDLINE),
    ),
    **_rules((21617,), Rule(TERMINAL, "message body over 1,600 characters")),
    **_rules((20429,), Rule(RETRY, "too many concurrent requests", max_retries=5)),
    **_rules((14107,), Rule(RETRY, "reply loop guard", max_retries=3)),
    **_rules((21611, 30001), Rule(RETRY, "sender queue full", max_retries=5)),
    **_rules((30002,), Rule(TERMINAL, "Twilio account suspended", halt=Halt.CAMPAIGN)),
    **_rules((30003,), Rule(RETRY, "handset unreachable", max_retries=2)),
    **_rules((30004,), Rule(TERMINAL, "blocked by the person or the carrier")),
    **_rules((30005,), Rule(TERMINAL, "unknown handset")),
    **_rules((30007,), Rule(TERMINAL, "carrier filtered the message", halt=Halt.CAMPAIGN)),
    **_rules((30008,), Rule(RETRY, "unknown error at the carrier", max_retries=2)),
    **_rules((30034,), Rule(TERMINAL, "number not registered for US 10DLC", halt=Halt.CAMPAIGN)),
    **_rules((30036,), Rule(RETRY, "message expired in the queue", max_retries=2)),
    **_rules((30410,), Rule(RETRY, "provider timeout", max_retries=3)),
    **_rules((63017,), Rule(RETRY, "account throughput limit", max_retries=5)),
    **_rules((63038,), Rule(TERMINAL, "account daily message cap reached", halt=Halt.CAMPAIGN)),
    # Twilio's codes for its own 500 and 503 responses and for rejected credentials.
    **_rules((20500, 20503), Rule(RETRY, "temporary error at Twilio", max_retries=3)),
    **_rules((20003,), Rule(TERMINAL, "Twilio credentials rejected", halt=Halt.CAMPAIGN)),
}

UNKNOWN_CODE = Rule(RETRY, "code not in Switchback's table", max_retries=2)
# A 5xx without a provider error body, for example from a proxy or load balancer. The
# provider clients report it as "http_<status>".
SERVER_ERROR = Rule(RETRY, "provider answered with a server error", max_retries=3)


def classify(channel: str, code: str, sub_account: "SubAccount | int | None" = None) -> Rule:
    """Return the rule for a provider error code: the sub-account's override when staff set
    one, else the table's rule, else the rule for unknown codes."""
    code = str(code)
    rule = table_rule(channel, code)
    if sub_account is not None:
        rule = _overridden(rule, channel, code, sub_account)
    return rule


def table_rule(channel: str, code: str) -> Rule:
    table = WHATSAPP_RULES if channel == "whatsapp" else SMS_RULES
    rule = table.get(code)
    if rule is not None:
        return rule
    if code.startswith("http_5"):
        return SERVER_ERROR
    # Unknown codes go to the log for review, so someone can add them to the table.
    logger.warning("unknown %s error code %s: retrying, then terminal", channel, code)
    return UNKNOWN_CODE


def _overridden(rule: Rule, channel: str, code: str, sub_account: "SubAccount | int") -> Rule:
    from .models import PolicyOverride

    sub_account_id = sub_account if isinstance(sub_account, int) else sub_account.pk
    override = PolicyOverride.objects.filter(
        sub_account_id=sub_account_id, channel=channel, code=code
    ).first()
    if override is None:
        return rule
    return override.apply(rule)


def with_action(rule: Rule, action: Action, halt: Halt | None, note: str) -> Rule:
    """Return the rule with another class, and another halt unless halt is None.

    A code made retryable keeps the table's retry budget (or the unknown-code one) and, when
    its tries run out, does what the table would have done at once.
    """
    retries: int
    exhausted: Action
    if action == Action.RETRY and rule.action != Action.RETRY:
        retries, exhausted = UNKNOWN_CODE.max_retries, rule.action
    else:
        retries, exhausted = rule.max_retries, rule.exhausted
    return replace(
        rule,
        action=action,
        description=f"{rule.description} ({note})",
        max_retries=retries if action == Action.RETRY else 0,
        exhausted=exhausted,
        halt=rule.halt if halt is None else halt,
    )
