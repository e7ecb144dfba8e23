"""Contacts: list, create, update, bulk upsert, opt-outs, and CSV imports as jobs."""

import logging

from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns.contact_import import ImportFileError, _check_region
from campaigns.models import Contact, ContactImport
from messaging.queue import enqueue

from . import jobs
from .base import ApiViewSet
from .idempotency import idempotent
from .schema import IDEMPOTENCY_KEY
from .serializers import (
    BulkContactsSerializer,
    BulkResultSerializer,
    ContactImportSerializer,
    ContactSerializer,
    OptOutSerializer,
)

logger = logging.getLogger(__name__)

# Uploads above this size are rejected, because the import job reads the whole file into memory.
MAX_IMPORT_BYTES = 20 * 1024 * 1024
MAX_BULK = 1000


class ContactViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    ApiViewSet,
):
    serializer_class = ContactSerializer

    def get_queryset(self) -> QuerySet[Contact]:
        if self.schema_only:
            return Contact.objects.none()
        contacts = Contact.objects.filter(sub_account=self.sub_account)
        if phone := self.request.query_params.get("phone"):
            contacts = contacts.filter(phone=phone)
        return contacts

    @extend_schema(parameters=[OpenApiParameter("phone", str, description="Exact E.164 number.")])
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def create(self, request: Request, *args, **kwargs) -> Response:
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        contact = serializer.save(sub_account=self.sub_account)
        logger.info("API key %s created contact %s", self.request.auth.pk, contact.pk)

    @extend_schema(
        request=BulkContactsSerializer,
        responses={200: BulkResultSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=False, methods=["post"])
    @idempotent
    def bulk(self, request: Request) -> Response:
        """Create or update up to 1000 contacts by phone number; given fields replace stored ones."""
        rows = request.data.get("contacts") if isinstance(request.data, dict) else None
        if not isinstance(rows, list) or not 1 <= len(rows) <= MAX_BULK:
            raise serializers.ValidationError(
                {"contacts": [f"give a list of 1 to {MAX_BULK} contact objects."]}
            )
        context = {**self.get_serializer_context(), "upsert": True}
        field_errors: dict[str, list[str]] = {}
        valid: list[tuple[Contact | None, dict]] = []
        first_index: dict[str, int] = {}
        for index, row in enumerate(rows):
            serializer = ContactSerializer(data=row, context=context)
            if serializer.is_valid():
                phone = serializer.validated_data["phone"]
                if phone in first_index:
                    field_errors[f"contacts.{index}.phone"] = [
                        f"{phone} is also contacts.{first_index[phone]}; send each number once."
                    ]
                    continue
                first_index[phone] = index
                stored = Contact.objects.filter(sub_account=self.sub_account, phone=phone).first()
                if stored is not None:
                    serializer = ContactSerializer(stored, data=row, partial=True, context=context)
                    serializer.is_valid()
            for name, messages in serializer.errors.items():
                field_errors[f"contacts.{index}.{name}"] = [str(m) for m in messages]
            if not serializer.errors:
                valid.append((serializer.instance, dict(serializer.validated_data)))
        if field_errors:
            raise serializers.ValidationError(field_errors)

        created = updated = 0
        saved: list[Contact] = []
        with transaction.atomic():
            for instance, fields in valid:
                if instance is None:
                    instance = Contact.objects.create(sub_account=self.sub_account, **fields)
                    created += 1
                else:
                    for name, value in fields.items():
                        setattr(instance, name, value)
                    instance.save()
                    updated += 1
                saved.append(instance)
        logger.info(
            "API key %s bulk upsert: %s created, %s updated", request.auth.pk, created, updated
        )
        body = {
            "created": created,
            "updated": updated,
            "contacts": ContactSerializer(saved, many=True).data,
        }
        return Response(body)

    @extend_schema(request=OptOutSerializer, responses={200: ContactSerializer})
    @action(detail=True, methods=["post"], url_path="opt-outs")
    def opt_outs(self, request: Request, pk: str) -> Response:
        """Record or clear an opt-out of one channel."""
        contact = self.get_object()
        form = OptOutSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        channel = form.validated_data["channel"]
        if form.validated_data["opted_out"]:
            contact.opt_out(channel, form.validated_data["source"])
        else:
            contact.opt_in(channel)
        contact.save()
        logger.info(
            "API key %s set %s opt-out of contact %s to %s",
            request.auth.pk,
            channel,
            contact.pk,
            form.validated_data["opted_out"],
        )
        return Response(ContactSerializer(contact).data)


class ContactImportViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    ApiViewSet,
):
    """CSV imports run as jobs; poll an import until its status is done or failed."""

    serializer_class = ContactImportSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[ContactImport]:
        if self.schema_only:
            return ContactImport.objects.none()
        return ContactImport.objects.filter(sub_account=self.sub_account).defer("content")

    @extend_schema(parameters=[IDEMPOTENCY_KEY], responses={202: ContactImportSerializer})
    @idempotent
    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise serializers.ValidationError(
                {"file": [f"is {upload.size} bytes; split it into files under 20 MB."]}
            )
        region = serializer.validated_data.get("default_region", "").strip().upper()
        if region:
            try:
                _check_region(region)
            except ImportFileError as error:
                raise serializers.ValidationError({"default_region": [str(error)]}) from None
        job = ContactImport.objects.create(
            sub_account=self.sub_account,
            file_name=upload.name[:255],
            content=upload.read(),
            default_region=region,
        )
        enqueue(jobs.run_contact_import, job.pk)
        logger.info("API key %s queued contact import %s", request.auth.pk, job.pk)
        return Response(self.get_serializer(job).data, status=status.HTTP_202_ACCEPTED)
