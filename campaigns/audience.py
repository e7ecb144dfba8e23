"""The recipients a campaign would reach, counted before launch with the launch's routing."""

from collections import Counter
from dataclasses import dataclass, field

from . import reasons
from .models import Campaign, Contact, Route, SubAccount
from .routing import Routing, route


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


def contacts_for(sub_account: SubAccount, tags: list[str]) -> list[Contact]:
    """Return the sub-account's contacts with any of `tags`, or all of them when empty."""
    contacts = Contact.objects.filter(sub_account=sub_account).order_by("id")
    tag_set = set(tags)
    # Tags are matched in Python, as the launch does: JSON containment differs between
    # SQLite and PostgreSQL.
    return [contact for contact in contacts if not tag_set or tag_set.intersection(contact.tags)]


def count_routes(campaign: Campaign) -> RouteCounts:
    """Route every contact of the campaign's audience as the launch would, without storing."""
    # NOTE: this reads and routes every contact on each call, and the composer calls it on
    # every edit. It was only run on 2,000 contacts; sub-accounts with far more need a
    # cached or sampled count.
    counts = RouteCounts()
    seen: set[str] = set()
    for contact in contacts_for(campaign.sub_account, campaign.audience_tags):
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
        fallback_enabled=campaign.fallback_enabled,
        fallback_text=campaign.fallback_text,
        direct_sms_for_us_marketing=True,
    )
    return count_routes(with_option).direct_sms_by_reason[reasons.US_MARKETING]
