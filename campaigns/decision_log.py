"""A recipient's decision log in words: what happened, which code, which rule, what
Switchback did."""

from . import reasons
from .models import Decision, Recipient


def explain(decision: Decision) -> str:
    """Return one decision as a sentence-like line, e.g.
    "20:14:03 WhatsApp failed: Message undeliverable [131026: number not reachable on
    WhatsApp] -> fallback SMS queued (rule: ...)"."""
    code = f" [{reasons.describe(decision.code)}]" if decision.code else ""
    rule = f" (rule: {decision.rule})" if decision.rule else ""
    return f"{decision.at:%H:%M:%S} {decision.event}{code} -> {decision.action}{rule}"


def explain_recipient(recipient: Recipient) -> list[str]:
    """Return the recipient's route, final state and every decision, one line each."""
    header = f"{recipient.phone}: {recipient.get_route_display()}, {recipient.status}" + (
        f" ({reasons.describe(recipient.reason)})" if recipient.reason else ""
    )
    return [header, *(explain(decision) for decision in recipient.decisions.all())]
