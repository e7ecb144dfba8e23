"""Template filters of the marketer UI."""

from django import template

from campaigns import reasons
from campaigns.models import RecipientStatus

register = template.Library()

# Recipient states in words: the model's choice labels, so the marketer pages and the admin
# name each state the same way. Attempt states are not listed and read as their value.
STATE_WORDS = dict(RecipientStatus.choices)


@register.filter
def state_words(value: str) -> str:
    return STATE_WORDS.get(value, value.replace("_", " "))


@register.filter
def reason_words(value: str) -> str:
    """Return a recipient's reason in words, provider codes with their meaning."""
    return reasons.describe(value)
