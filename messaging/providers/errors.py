from dataclasses import dataclass


@dataclass(frozen=True)
class SendResult:
    """A provider accepted a message: accepted, not yet delivered."""

    provider_message_id: str
    status: str
    segments: int | None = None


class ProviderError(Exception):
    """The provider responded and rejected the request, so the message was not sent."""

    def __init__(self, code: str, title: str, detail: str = "", http_status: int | None = None):
        super().__init__(f"{code}: {title}")
        self.code = code
        self.title = title
        self.detail = detail
        self.http_status = http_status


class ProviderUnreachable(Exception):
    """No response (timeout, connection reset): the provider may or may not have the message."""
