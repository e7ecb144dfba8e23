from .rates import SmsRate, WhatsAppRate
from .rollups import CampaignRollup, ReportCell

__all__ = ["CampaignRollup", "ReportCell", "SmsRate", "WhatsAppRate"]
