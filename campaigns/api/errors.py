"""One JSON error shape for every API error:

    {"error": {"code": "invalid", "message": "...", "fields": {"phone": ["..."]}}}

`fields` is present only for validation errors; nested serializers give dotted names
("contacts.3.phone").
"""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

logger = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class ErrorBody(serializers.Serializer):
    # Declared in get_fields: a class attribute named "fields" would hide Serializer.fields.
    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "code": serializers.CharField(),
            "message": serializers.CharField(),
            "fields": serializers.DictField(
                child=serializers.ListField(child=serializers.CharField()), required=False
            ),
        }


class ErrorSerializer(serializers.Serializer):
    error = ErrorBody()


def handle(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_not_found(context))
    elif isinstance(exc, exceptions.ParseError):
        exc = exceptions.ParseError(
            f"{exc.detail} — send a JSON object with the header 'Content-Type: application/json'"
        )
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, exceptions.NotAuthenticated):
        exc = exceptions.NotAuthenticated(
            "Missing API key: send the header 'Authorization: Bearer <API key>'; keys are "
            "created per sub-account in admin under API keys."
        )
    response = exception_handler(exc, context)
    if response is None:
        # An unexpected error: log it with its traceback and keep the error shape, so
        # clients parse one format whatever happens.
        view = context.get("view")
        view_name = type(view).__name__ if view else "unknown view"
        logger.error("API error in %s: %r", view_name, exc, exc_info=exc)
        set_rollback()
        failure = {"code": "server_error", "message": "Internal error; it has been logged."}
        return Response({"error": failure}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    assert isinstance(exc, exceptions.APIException)
    if isinstance(exc, exceptions.ValidationError):
        body: dict[str, Any] = {
            "code": "invalid",
            "message": "Some fields are not valid; see fields.",
            "fields": _flatten(exc.detail),
        }
    else:
        codes = exc.get_codes()
        body = {
            "code": codes if isinstance(codes, str) else "error",
            "message": _text(exc.detail),
        }
    response.data = {"error": body}
    return response


def _not_found(context: dict[str, Any]) -> str:
    """Name the id that was not found, and where the usable ids are listed."""
    identifier = (context.get("kwargs") or {}).get("pk")
    request = context.get("request")
    if identifier is None or request is None:
        return "No such object in this sub-account."
    listing = request.path.rsplit(f"/{identifier}/", 1)[0] + "/"
    return (
        f"No object with id {identifier!r} in this sub-account; GET {listing} lists the ids "
        "you can use."
    )


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for name, value in detail.items():
            key = f"{prefix}.{name}" if prefix else str(name)
            if key == "non_field_errors":
                key = "request"
            fields.update(_flatten(value, key))
    elif isinstance(detail, list) and detail and all(isinstance(d, str) for d in detail):
        fields[prefix or "request"] = [str(d) for d in detail]
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if value:
                fields.update(_flatten(value, f"{prefix}.{index}" if prefix else str(index)))
    else:
        fields[prefix or "request"] = [str(detail)]
    return fields


def _text(detail: Any) -> str:
    if isinstance(detail, list):
        return " ".join(_text(d) for d in detail)
    if isinstance(detail, dict):
        return " ".join(f"{k}: {_text(v)}" for k, v in detail.items())
    return str(detail)
