from .accounts import Agency, BusinessPortfolio, SubAccount
from .api_keys import ApiKey, IdempotencyRecord
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
from .imports import ContactImport, ImportStatus
from .templates import Template, TemplateCategory, TemplateStatus

__all__ = [
    "FINAL_STATUSES",
    "Agency",
    "ApiKey",
    "BusinessPortfolio",
    "Campaign",
    "CampaignStatus",
    "Contact",
    "ContactImport",
    "Decision",
    "IdempotencyRecord",
    "ImportStatus",
    "LineType",
    "Recipient",
    "RecipientStatus",
    "Route",
    "SubAccount",
    "Template",
    "TemplateCategory",
    "TemplateStatus",
]
