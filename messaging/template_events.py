"""Meta's template status webhooks: stop a paused or rejected template, revive an approved one."""

import logging
from typing import Any

from django.utils import timezone

from campaigns.models import Template, TemplateStatus

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
