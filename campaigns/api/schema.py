"""OpenAPI details shared by every API operation: the error responses and the key header."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter

from .errors import ErrorSerializer

# Every operation can return these. 409 is added only to writes, which can meet a state conflict.
ALWAYS = ("401", "404", "429")
WRITES = ("400", "409")

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Repeat a creating request safely: the same key and body return the first "
    "response; the same key with another body returns 409.",
)


ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The object's id.")


class ApiSchema(AutoSchema):
    def get_override_parameters(self):
        # The URL accepts any segment (see ApiViewSet.lookup_value_regex); ids are integers.
        extra = [ID] if "{id}" in self.path else []
        return [*extra, *super().get_override_parameters()]

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = ALWAYS + (WRITES if self.method in ("POST", "PUT", "PATCH") else ("400",))
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorSerializer, code)
        return responses


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "campaigns.api.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An API key of a sub-account."}
