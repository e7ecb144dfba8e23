"""Request and response bodies of the API."""

import json
from typing import Any

from django.db.models import Count
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from campaigns import reasons, validation
from campaigns.contact_import import InvalidPhoneNumber, normalize_phone
from campaigns.models import (
    Campaign,
    Contact,
    ContactImport,
    Recipient,
    RecipientStatus,
    SubAccount,
    Template,
)
from messaging import webhook_targets
from messaging.content import CONTACT_FIELDS
from messaging.models import DeliveryAttempt, OutboundEvent, WebhookEndpoint

from . import schedule

CHANNELS = ("whatsapp", "sms")
MAX_TAGS = 50
# WhatsApp's limit on a template body, in characters.
MAX_TEMPLATE_BODY = 1024


def _sub_account(serializer: serializers.Serializer) -> SubAccount:
    return serializer.context["sub_account"]


JSON_KINDS = {bool: "boolean", int: "number", float: "number", list: "array", dict: "object"}


class StringField(serializers.CharField):
    """A CharField that rejects JSON numbers, booleans, lists and objects.

    DRF's CharField turns 5 into "5", which hides a value sent in the wrong type.
    """

    default_error_messages = {"not_a_string": "{value} is a JSON {kind}, not a string.{fix}"}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            value = json.dumps(data)[:60]
            kind = JSON_KINDS.get(type(data), "value")
            # A number or boolean was most likely meant as text, so show it quoted.
            quoted = kind in ("number", "boolean")
            fix = f' Send "{value}" for that text.' if quoted else " Send a string."
            self.fail("not_a_string", value=value, kind=kind, fix=fix)
        return super().to_internal_value(data)


# Contacts


class ContactSerializer(serializers.ModelSerializer):
    tags = serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=MAX_TAGS, required=False
    )
    whatsapp_opt_out_at = serializers.DateTimeField(read_only=True, allow_null=True)
    sms_opt_out_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = Contact
        fields = [
            "id",
            "phone",
            "first_name",
            "last_name",
            "email",
            "country",
            "tags",
            "whatsapp_opt_out_at",
            "sms_opt_out_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # The phone is checked against the sub-account in validate(), not by DRF's
        # validator, which cannot name the sub-account.
        validators: list[Any] = []

    def validate_country(self, value: str) -> str:
        value = value.strip().upper()
        if value and (len(value) != 2 or not value.isalpha()):
            raise serializers.ValidationError(
                f"'{value}' is not an ISO 3166 alpha-2 code; use two letters such as GB or US."
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "phone" in attrs:
            country = attrs.get("country") or (self.instance.country if self.instance else "")
            try:
                phone = normalize_phone(attrs["phone"], country or None)
            except InvalidPhoneNumber as error:
                raise serializers.ValidationError({"phone": [str(error)]}) from None
            attrs["phone"] = phone.e164
            attrs["country"] = phone.country
            taken = Contact.objects.filter(sub_account=_sub_account(self), phone=phone.e164)
            if self.instance is not None:
                taken = taken.exclude(pk=self.instance.pk)
            existing = taken.first()
            if existing is not None and not self.context.get("upsert"):
                raise serializers.ValidationError(
                    {
                        "phone": [
                            f"{phone.e164} is already contact {existing.pk}; update that "
                            "contact or use POST /api/v1/contacts/bulk/."
                        ]
                    }
                )
        return attrs


class BulkContactsSerializer(serializers.Serializer):
    contacts = ContactSerializer(  # type: ignore[call-arg]
        many=True, allow_empty=False, max_length=1000, help_text="Matched by phone number."
    )


class BulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    contacts = ContactSerializer(many=True)


class OptOutSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=CHANNELS)
    opted_out = serializers.BooleanField()
    source = serializers.CharField(  # type: ignore[assignment]
        max_length=64, required=False, default="api"
    )


class ContactImportSerializer(serializers.ModelSerializer):
    file = serializers.FileField(write_only=True, help_text="CSV with a header row.")
    default_region = serializers.CharField(
        max_length=2,
        required=False,
        allow_blank=True,
        help_text="Country of numbers without a country code, e.g. GB.",
    )
    row_errors = serializers.ListField(child=serializers.DictField(), read_only=True)
    ignored_columns = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Header names that match no contact field; their values were not imported.",
    )

    class Meta:
        model = ContactImport
        fields = [
            "id",
            "file",
            "file_name",
            "default_region",
            "status",
            "created",
            "updated",
            "whatsapp_opt_outs",
            "sms_opt_outs",
            "row_errors",
            "ignored_columns",
            "error",
            "created_at",
            "finished_at",
        ]
        read_only_fields = [
            "id",
            "file_name",
            "status",
            "created",
            "updated",
            "whatsapp_opt_outs",
            "sms_opt_outs",
            "error",
            "created_at",
            "finished_at",
        ]


# Templates


class TemplateSerializer(serializers.ModelSerializer):
    variables = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Template
        fields = ["id", "name", "language", "category", "status", "body", "variables"]


class SyncResultSerializer(serializers.Serializer):
    synced = serializers.IntegerField()


class AnalyzeRequestSerializer(serializers.Serializer):
    body = serializers.CharField(
        max_length=MAX_TEMPLATE_BODY,
        trim_whitespace=False,
        help_text="Template body text with {{1}}-style variables.",
    )


class FindingSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="offer, discount, urgency, renewal, cart or greeting.")
    phrase = serializers.CharField(help_text="The matched text, as written in the body.")
    start = serializers.IntegerField(help_text="Offset of the phrase in the body, in characters.")
    end = serializers.IntegerField()
    reason = serializers.CharField(help_text="Why the phrase reads as marketing.")


class AnalysisSerializer(serializers.Serializer):
    reads_as_marketing = serializers.BooleanField()
    findings = FindingSerializer(many=True)
    variable_share = serializers.FloatField(help_text="Share of the words that are variables.")
    mostly_variables = serializers.BooleanField(
        help_text="Variables are more than half the words, so Meta has little fixed text to judge."
    )
    rewrite = serializers.CharField(help_text="Proposed UTILITY wording; every variable is kept.")


# Campaigns


class CampaignSerializer(serializers.ModelSerializer):
    template = serializers.PrimaryKeyRelatedField(queryset=Template.objects.none())
    audience_tags = serializers.ListField(
        child=serializers.CharField(max_length=100),
        max_length=MAX_TAGS,
        required=False,
        help_text="Contacts with any of these tags; empty means every contact. A tag that "
        "no contact has makes the launch fail, so contacts may be imported after this.",
    )
    variables = serializers.ListField(
        child=StringField(max_length=1000),
        required=False,
        help_text="One per template variable, in order: 'contact.<field>' with field one of "
        f"{', '.join(CONTACT_FIELDS)}, or literal text.",
    )
    counters = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "template",
            "audience_tags",
            "variables",
            "fallback_enabled",
            "fallback_text",
            "direct_sms_for_us_marketing",
            "whatsapp_delivery_timeout_minutes",
            "status",
            "status_reason",
            "counters",
            "created_at",
            "launched_at",
            "finished_at",
        ]
        read_only_fields = [
            "id",
            "status",
            "status_reason",
            "created_at",
            "launched_at",
            "finished_at",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "sub_account" in self.context:
            field = self.fields["template"]
            assert isinstance(field, serializers.PrimaryKeyRelatedField)
            templates = Template.objects.filter(sub_account=_sub_account(self))
            field.queryset = templates  # type: ignore[misc,arg-type]
            schedule.use_time_zone(self.fields["send_at"], _sub_account(self))

    def get_fields(self) -> dict[str, serializers.Field]:
        # Added here rather than declared on the class, so that schedule.py keeps them and
        # their checks together.
        return {**super().get_fields(), **schedule.declared_fields()}

    @extend_schema_field(
        serializers.DictField(
            child=serializers.IntegerField(),
            help_text="Recipients per status; present on a single campaign, not in lists.",
        )
    )
    def get_counters(self, campaign: Campaign) -> dict[str, int]:
        if not self.context.get("with_counters"):
            return {}
        counts = dict.fromkeys(RecipientStatus.values, 0)
        rows = (
            Recipient.objects.filter(campaign=campaign)
            .values_list("status")
            .annotate(n=Count("id"))
            .order_by()
        )
        for status, n in rows:
            counts[status] = n
        return counts

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A partial update (PATCH) checks the stored value of each field it leaves out.
        def value(name: str, default: Any) -> Any:
            if name in attrs:
                return attrs[name]
            return getattr(self.instance, name) if self.instance is not None else default

        errors = schedule.check(attrs, self.instance)
        if errors:
            raise serializers.ValidationError(errors)
        template: Template = value("template", None)
        errors = {}
        variable_errors = validation.variable_errors(value("variables", []), template)
        if variable_errors:
            errors["variables"] = variable_errors
        fallback_enabled = value("fallback_enabled", True)
        fallback_text = value("fallback_text", "")
        if fallback_enabled and not fallback_text.strip():
            errors["fallback_text"] = [
                "Fallback is on: write the SMS text or set fallback_enabled."
            ]
        # A stored text is checked again only when fallback would send it, as at launch.
        elif fallback_enabled or "fallback_text" in attrs:
            text_errors = validation.sms_text_errors(fallback_text)
            if text_errors:
                errors["fallback_text"] = text_errors
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


# Recipients


class AttemptSerializer(serializers.ModelSerializer):
    error_text = serializers.SerializerMethodField()

    class Meta:
        model = DeliveryAttempt
        fields = [
            "channel",
            "status",
            "error_code",
            "error_text",
            "segments",
            "created_at",
            "delivered_at",
        ]

    def get_error_text(self, attempt: DeliveryAttempt) -> str:
        return reasons.describe(attempt.error_code) if attempt.error_code else ""


class RecipientSerializer(serializers.ModelSerializer):
    reason_text = serializers.SerializerMethodField(help_text="The reason in words.")
    attempts = AttemptSerializer(many=True, read_only=True)

    class Meta:
        model = Recipient
        fields = [
            "id",
            "contact",
            "phone",
            "country",
            "route",
            "status",
            "reason",
            "reason_text",
            "fallback_triggered",
            "delivered_both",
            "attempts",
            "updated_at",
            "finished_at",
        ]

    def get_reason_text(self, recipient: Recipient) -> str:
        return reasons.describe(recipient.reason) if recipient.reason else ""


# Outbound webhooks


class WebhookEndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=OutboundEvent.choices),
        required=False,
        help_text="Events to send; empty means all.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "events", "active", "secret", "created_at"]
        read_only_fields = ["id", "secret", "created_at"]
        extra_kwargs = {"secret": {"help_text": "Shown once, when the endpoint is created."}}

    def validate_url(self, value: str) -> str:
        try:
            webhook_targets.check_url(value)
        except webhook_targets.UnsafeTarget as error:
            raise serializers.ValidationError(str(error)) from None
        return value

    def to_representation(self, instance: WebhookEndpoint) -> dict[str, Any]:
        data = super().to_representation(instance)
        if not self.context.get("show_secret"):
            data["secret"] = ""
        return data
