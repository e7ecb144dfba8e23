from .accounts import Agency, BusinessPortfolio, SubAccount
from .campaigns import (
    FINAL_STATUSES,
    Campaign,
    CampaignStatus,
    Decision,
    Recipient,
    RecipientStatus,
    Route,
)
from .contacts import Contact, LineType
from .templates import Template, TemplateCategory, TemplateStatus

__all__ = [
    "FINAL_STATUSES",
    "Agency",
    "BusinessPortfolio",
    "Campaign",
    "CampaignStatus",
    "Contact",
    "Decision",
    "LineType",
    "Recipient",
    "RecipientStatus",
    "Route",
    "SubAccount",
    "Template",
    "TemplateCategory",
    "TemplateStatus",
]
