from .rates import SmsRate, WhatsAppRate

__all__ = ["SmsRate", "WhatsAppRate"]
