"""Clients for the outside messaging providers: one module per provider, one send call each,
and one error type that carries the provider's code."""

from .errors import ProviderError, ProviderUnreachable, SendResult

__all__ = ["ProviderError", "ProviderUnreachable", "SendResult"]
