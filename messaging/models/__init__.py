from .attempts import AttemptStatus, Channel, DeliveryAttempt
from .events import Provider, ProviderEvent
from .outbound import DeliveryStatus, OutboundEvent, WebhookDelivery, WebhookEndpoint
from .policy import HaltChoice, PolicyOverride

__all__ = [
    "AttemptStatus",
    "Channel",
    "DeliveryAttempt",
    "DeliveryStatus",
    "OutboundEvent",
    "Provider",
    "ProviderEvent",
    "WebhookDelivery",
    "WebhookEndpoint",
    "HaltChoice",
    "PolicyOverride",
]
