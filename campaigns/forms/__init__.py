"""Forms of the marketer UI. Errors name the value and the fix, next to the field."""

from .compose import CampaignForm
from .contacts import ContactFilterForm, ContactImportForm
from .templates import TemplateAnalysisForm

__all__ = ["CampaignForm", "ContactFilterForm", "ContactImportForm", "TemplateAnalysisForm"]
