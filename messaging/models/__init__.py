from .attempts import AttemptStatus, Channel, DeliveryAttempt
from .events import Provider, ProviderEvent

__all__ = ["AttemptStatus", "Channel", "DeliveryAttempt", "Provider", "ProviderEvent"]
