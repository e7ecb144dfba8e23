"""The recipients a campaign would reach, counted before launch with the launch's routing."""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from . import reasons
from .models import Campaign, Contact, Route
from .routing import Routing, e164, route


@dataclass
class RouteCounts:
    total: int = 0
    by_route: Counter[str] = field(default_factory=Counter)
    skipped_by_reason: Counter[str] = field(default_factory=Counter)
    direct_sms_by_reason: Counter[str] = field(default_factory=Counter)

    @property
    def sendable(self) -> int:
        return self.total - self.by_route[Route.NONE]

    def skipped_in_words(self) -> list[tuple[str, int]]:
        return [(reasons.describe(code), n) for code, n in self.skipped_by_reason.most_common()]

    def direct_sms_in_words(self) -> list[tuple[str, int]]:
        return [(reasons.describe(code), n) for code, n in self.direct_sms_by_reason.most_common()]


class TaggedContact(Protocol):
    """The contact fields the audience rule reads: a Contact, or a launch's contact row."""

    @property
    def phone(self) -> str: ...
    @property
    def tags(self) -> Any: ...


class AudienceFilter:
    """The campaign's audience rule: any of its tags, and only the numbers of its uploaded
    list. An empty tag list or phone list does not narrow the audience."""

    def __init__(self, campaign: Campaign) -> None:
        self.tags = set(campaign.audience_tags or [])
        self.phones = set(campaign.audience_phones or [])

    def includes(self, contact: TaggedContact) -> bool:
        # Tags are matched in Python, as the launch does: JSON containment differs between
        # SQLite and PostgreSQL.
        if self.tags and not self.tags.intersection(contact.tags or []):
            return False
        return not self.phones or e164(contact.phone) in self.phones


def contacts_for(campaign: Campaign) -> list[Contact]:
    """Return the contacts of the campaign's sub-account that are in its audience."""
    contacts = Contact.objects.filter(sub_account=campaign.sub_account).order_by("id")
    audience = AudienceFilter(campaign)
    return [contact for contact in contacts if audience.includes(contact)]


def count_routes(campaign: Campaign) -> RouteCounts:
    """Route every contact of the campaign's audience as the launch would, without storing."""
    # NOTE: this reads and routes every contact on each call, and the composer calls it on
    # every edit. It was only run on 2,000 contacts; sub-accounts with far more need a
    # cached or sampled count.
    counts = RouteCounts()
    seen: set[str] = set()
    for contact in contacts_for(campaign):
        if contact.phone in seen:
            routed = Routing(Route.NONE, "skipped", reasons.DUPLICATE_NUMBER)
        else:
            routed = route(contact, campaign)
        seen.add(contact.phone)

        counts.total += 1
        counts.by_route[routed.route] += 1
        if routed.route == Route.NONE:
            counts.skipped_by_reason[routed.reason] += 1
        elif routed.route == Route.DIRECT_SMS:
            counts.direct_sms_by_reason[routed.reason] += 1
    return counts


def us_marketing_affected(campaign: Campaign) -> int:
    """Count the recipients the "US marketing straight to SMS" option sends to SMS directly."""
    with_option = Campaign(
        sub_account=campaign.sub_account,
        template=campaign.template,
        audience_tags=campaign.audience_tags,
        audience_phones=campaign.audience_phones,
        fallback_enabled=campaign.fallback_enabled,
        fallback_text=campaign.fallback_text,
        direct_sms_for_us_marketing=True,
    )
    return count_routes(with_option).direct_sms_by_reason[reasons.US_MARKETING]
