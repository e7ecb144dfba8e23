"""Spend per channel from the agency's rate cards, shaped for the review and campaign pages."""

from dataclasses import dataclass
from decimal import Decimal

from messaging.models import Channel
from reports.billing import Spend

CHANNEL_LABELS = {Channel.WHATSAPP: "WhatsApp", Channel.SMS: "SMS"}


@dataclass(frozen=True)
class SpendLine:
    label: str
    messages: int
    # SMS segments; None for WhatsApp, which is priced per message.
    segments: int | None
    cost: Decimal
    price: Decimal
    # Messages whose country or category has no rate in the card, so they add nothing.
    unpriced: int

    @property
    def all_unpriced(self) -> bool:
        return self.messages > 0 and self.unpriced == self.messages


def spend_lines(spend: Spend) -> list[SpendLine]:
    """Return one line per channel, then a total line."""
    lines = [
        SpendLine(
            label=label,
            messages=spend.channels[channel].messages,
            segments=spend.channels[channel].segments if channel == Channel.SMS else None,
            cost=spend.channels[channel].cost,
            price=spend.price_of(channel),
            unpriced=spend.channels[channel].unpriced,
        )
        for channel, label in CHANNEL_LABELS.items()
    ]
    lines.append(
        SpendLine(
            label="Total",
            messages=sum(line.messages for line in lines),
            segments=None,
            cost=spend.cost,
            price=spend.price,
            unpriced=sum(line.unpriced for line in lines),
        )
    )
    return lines
