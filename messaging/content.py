"""What a recipient receives: template parameters and the fallback SMS text."""

import re

from campaigns.models import Campaign, Contact

# The contact fields that SMS merge fields ({first_name}) and template variables
# ("contact.first_name") can read. campaigns.validation checks input against them.
CONTACT_FIELDS = ("first_name", "last_name", "name", "phone", "email", "country")
MERGE_FIELD = re.compile(r"{\s*(" + "|".join(CONTACT_FIELDS) + r")\s*}")
CONTACT_PREFIX = "contact."


def template_parameters(campaign: Campaign, contact: Contact) -> list[str]:
    """Fill each template variable from a contact field ("contact.first_name") or a literal.

    WhatsApp rejects an empty parameter (132000), so an empty contact field becomes a dash.
    """
    values = []
    for source in campaign.variables:
        if isinstance(source, str) and source.startswith(CONTACT_PREFIX):
            # Only the listed fields, so that "contact.sub_account" cannot reach other rows.
            field = source.removeprefix(CONTACT_PREFIX)
            value = str(getattr(contact, field, "") or "") if field in CONTACT_FIELDS else ""
        else:
            value = str(source)
        values.append(value.strip() or "-")
    return values


def sms_text(campaign: Campaign, contact: Contact) -> str:
    """Fill the merge fields ({first_name}, {name}, ...) of the campaign's fallback text."""

    def fill(match: re.Match[str]) -> str:
        return str(getattr(contact, match.group(1), "") or "")

    return MERGE_FIELD.sub(fill, campaign.fallback_text).strip()
