"""Idempotency-Key for creating POSTs.

The record is inserted in the same transaction as the rows the request creates. On
PostgreSQL a concurrent request with the same key waits on the unique index until the
first one commits, then finds the stored response and replays it (SQLite runs one writer
at a time, with the same result). If the first request fails, its record and its rows
roll back together and the key can be used again.
"""

import functools
import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns.models import ApiKey, IdempotencyRecord

from .errors import Conflict

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def idempotent(handler: Callable[..., Response]) -> Callable[..., Response]:
    @functools.wraps(handler)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER, "").strip()
        if not key:
            return handler(view, request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            raise exceptions.ValidationError(
                {HEADER: [f"is {len(key)} characters long; use at most {MAX_KEY_LENGTH}."]}
            )
        request_digest = _digest(request)
        api_key = request.auth
        assert isinstance(api_key, ApiKey)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        api_key=api_key,
                        key=key,
                        request_digest=request_digest,
                        status_code=0,
                    )
            except IntegrityError:
                stored = IdempotencyRecord.objects.get(api_key=api_key, key=key)
                return _replay(stored, request_digest)
            response = handler(view, request, *args, **kwargs)
            record.status_code = response.status_code
            record.response_body = json.loads(json.dumps(response.data, cls=DjangoJSONEncoder))
            record.save(update_fields=["status_code", "response_body"])
        return response

    return wrapper


def _replay(stored: IdempotencyRecord, request_digest: str) -> Response:
    if stored.request_digest != request_digest:
        logger.info("idempotency key %s of API key %s reused", stored.pk, stored.api_key_id)
        raise Conflict(
            f"The Idempotency-Key '{stored.key}' was already used for a different request; "
            "send a new key for a new request."
        )
    logger.info("idempotency key %s of API key %s replayed", stored.pk, stored.api_key_id)
    return Response(
        stored.response_body, status=stored.status_code, headers={"Idempotent-Replayed": "true"}
    )


def _digest(request: Request) -> str:
    """SHA-256 of the method, path and body as parsed, so key order and spacing don't count."""
    data = request.data
    if hasattr(data, "lists"):  # a QueryDict: form or multipart
        body: Any = {name: [_value(v) for v in values] for name, values in data.lists()}
        body.update({name: _value(f) for name, f in request.FILES.items()})
    else:
        body = data
    text = json.dumps([request.method, request.path, body], sort_keys=True, cls=DjangoJSONEncoder)
    return hashlib.sha256(text.encode()).hexdigest()


def _value(value: Any) -> Any:
    if isinstance(value, UploadedFile):
        content = hashlib.sha256()
        for chunk in value.chunks():
            content.update(chunk)
        value.seek(0)
        return content.hexdigest()
    return value
