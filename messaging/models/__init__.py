from .attempts import AttemptStatus, Channel, DeliveryAttempt
from .events import Provider, ProviderEvent
from .policy import HaltChoice, PolicyOverride

__all__ = [
    "AttemptStatus",
    "Channel",
    "DeliveryAttempt",
    "HaltChoice",
    "PolicyOverride",
    "Provider",
    "ProviderEvent",
]
