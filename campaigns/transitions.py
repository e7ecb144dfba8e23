"""Forward-only state changes of recipients and campaigns, and the decision log.

Every change is a conditional UPDATE on the expected current status, checked by row
count: duplicate or late webhooks and concurrent workers then find nothing to change
instead of sending a second message or moving a recipient backwards.
"""

import logging
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from .models import FINAL_STATUSES, Campaign, CampaignStatus, Decision, Recipient

logger = logging.getLogger(__name__)


def advance(recipient_id: int, from_statuses: Iterable[str], to_status: str, **fields: Any) -> bool:
    if to_status in FINAL_STATUSES:
        fields.setdefault("finished_at", timezone.now())
    changed = Recipient.objects.filter(pk=recipient_id, status__in=list(from_statuses)).update(
        status=to_status, updated_at=timezone.now(), **fields
    )
    if changed:
        logger.debug("recipient %s moved to %s", recipient_id, to_status)
        if to_status in FINAL_STATUSES:
            from messaging import outbound

            outbound.recipient_final(recipient_id)
    return bool(changed)


def record(recipient_id: int, event: str, action: str, code: str = "", rule: str = "") -> None:
    Decision.objects.create(
        recipient_id=recipient_id,
        event=event[:200],
        code=str(code)[:32],
        rule=rule[:200],
        action=action[:200],
    )


def finish_campaign_if_done(campaign_id: int) -> bool:
    """Complete a running campaign whose recipients are all final; returns whether it did.

    Inside a transaction the check waits for the commit: two transactions that each end
    the other's last open recipient would otherwise both see one still open.
    """
    if connection.in_atomic_block:
        transaction.on_commit(lambda: finish_campaign_if_done(campaign_id))
        return False
    open_recipients = Recipient.objects.filter(campaign_id=campaign_id).exclude(
        status__in=FINAL_STATUSES
    )
    if open_recipients.exists():
        return False
    changed = Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.RUNNING).update(
        status=CampaignStatus.COMPLETED, finished_at=timezone.now()
    )
    if changed:
        logger.info("campaign %s completed", campaign_id)
        from messaging import outbound

        outbound.campaign_completed(campaign_id)
    return bool(changed)
