"""Copy a sub-account's WhatsApp templates from the provider into Switchback."""

import logging

from messaging.providers import whatsapp

from .models import SubAccount, Template, TemplateCategory, TemplateStatus

logger = logging.getLogger(__name__)


def sync_templates(sub_account: SubAccount) -> int:
    """Create or update a Template per provider template; returns how many were seen."""
    found = whatsapp.list_templates(
        business_account_id=sub_account.whatsapp_business_account_id,
        access_token=sub_account.whatsapp_access_token,
    )
    for item in found:
        body = next(
            (c.get("text", "") for c in item.get("components", []) if c.get("type") == "BODY"), ""
        )
        category = item.get("category", "")
        status = item.get("status", "")
        Template.objects.update_or_create(
            sub_account=sub_account,
            name=item["name"],
            language=item.get("language", "en_US"),
            defaults={
                "provider_id": str(item.get("id", "")),
                "category": category if category in TemplateCategory.values else "MARKETING",
                "status": status if status in TemplateStatus.values else TemplateStatus.PENDING,
                "body": body,
            },
        )
    logger.info("sub-account %s: %s templates synced", sub_account.pk, len(found))
    return len(found)
