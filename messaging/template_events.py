"""Meta's template status webhooks: stop a paused or rejected template, revive an approved one."""

import logging
from typing import Any

from django.utils import timezone

from campaigns.models import Template, TemplateCategory, TemplateStatus

from . import halts

logger = logging.getLogger(__name__)

HALTING = {
    "PAUSED": TemplateStatus.PAUSED,
    "DISABLED": TemplateStatus.DISABLED,
    "REJECTED": TemplateStatus.REJECTED,
}
REVIVING = {"APPROVED", "REINSTATED", "UNPAUSE"}


def apply_template_event(value: dict[str, Any]) -> list[str]:
    template_id = str(value.get("message_template_id", ""))
    event = str(value.get("event", "")).upper()
    templates = list(Template.objects.filter(provider_id=template_id)) if template_id else []
    if not templates:
        return [f"template {template_id or '(no id)'}: not known here"]
    title = ((value.get("other_info") or {}).get("title") or "").upper()
    for template in templates:
        if event in HALTING:
            halts.halt_template(template.pk, HALTING[event], f"template_{event.lower()}")
        elif event in REVIVING or title == "UNPAUSE":
            Template.objects.filter(pk=template.pk).update(
                status=TemplateStatus.APPROVED, last_event=event, last_event_at=timezone.now()
            )
            logger.info("template %s usable again after %s", template.pk, event)
        else:
            Template.objects.filter(pk=template.pk).update(
                last_event=event[:64], last_event_at=timezone.now()
            )
    return []


def apply_category_update(value: dict[str, Any]) -> list[str]:
    """Store a completed category change; routing of later sends follows the new category.

    The advance notice (with correct_category and no previous_category) changes nothing yet,
    because Meta applies the change about 24 hours later.
    """
    template_id = str(value.get("message_template_id", ""))
    new_category = str(value.get("new_category", "")).upper()
    if "previous_category" not in value:
        return []
    if new_category not in TemplateCategory.values:
        return [f"template {template_id}: unknown category {new_category!r}"]
    changed = Template.objects.filter(provider_id=template_id).update(
        category=new_category,
        last_event=f"CATEGORY_{new_category}"[:64],
        last_event_at=timezone.now(),
    )
    if not changed:
        return [f"template {template_id or '(no id)'}: not known here"]
    logger.info("template %s is now %s", template_id, new_category)
    return []
