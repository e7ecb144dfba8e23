"""The compose form: audience, template variables and SMS fallback of a campaign."""

from django import forms

from campaigns import validation
from campaigns.models import Campaign, SubAccount, Template, TemplateStatus

from .audience_list import PhoneListFields
from .schedule import ScheduleFields

# Contact fields a template variable or an SMS merge field may take its value from.
CONTACT_FIELDS = [
    ("contact.first_name", "First name"),
    ("contact.last_name", "Last name"),
    ("contact.name", "Full name"),
    ("contact.phone", "Phone"),
    ("contact.email", "Email"),
    ("contact.country", "Country"),
]
LITERAL = "literal"


class CampaignForm(PhoneListFields, ScheduleFields, forms.ModelForm):
    """Compose a campaign. The template's variables get one source field each."""

    AUDIENCE_CHOICES = [
        ("all", "All contacts"),
        ("tags", "Contacts with any of these tags"),
        ("list", "Contacts in a list I upload"),
    ]

    audience = forms.ChoiceField(choices=AUDIENCE_CHOICES, widget=forms.RadioSelect, initial="all")
    tags = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Tags"
    )

    class Meta:
        model = Campaign
        fields = [
            "name",
            "template",
            "fallback_enabled",
            "fallback_text",
            "direct_sms_for_us_marketing",
            "whatsapp_delivery_timeout_minutes",
        ]
        labels = {
            "fallback_enabled": "Send the SMS text when WhatsApp cannot deliver",
            "fallback_text": "SMS text",
        }
        help_texts = {
            "fallback_text": "Merge fields: {first_name}, {last_name}, {name}, {phone}, "
            "{email}, {country}.",
        }
        widgets = {"fallback_text": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, sub_account: SubAccount, tags: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sub_account = sub_account
        template_field = self.fields["template"]
        assert isinstance(template_field, forms.ModelChoiceField)
        template_field.queryset = Template.objects.filter(
            sub_account=sub_account, status=TemplateStatus.APPROVED
        )
        template_field.help_text = "Only templates Meta has approved can be sent."
        tags_field = self.fields["tags"]
        assert isinstance(tags_field, forms.MultipleChoiceField)
        tags_field.choices = [(tag, tag) for tag in tags]
        if self.instance.pk and self.instance.audience_tags:
            self.initial.setdefault("audience", "tags")
            self.initial.setdefault("tags", self.instance.audience_tags)
        self._add_variable_fields()
        self.setup_schedule(sub_account, self.instance)
        self.setup_phone_list(self.instance)

    def selected_template(self) -> Template | None:
        template_field = self.fields["template"]
        assert isinstance(template_field, forms.ModelChoiceField)
        raw = self.data.get("template") if self.is_bound else self.initial.get("template")
        if raw is None and self.instance.pk:
            return self.instance.template
        if raw is None or template_field.queryset is None:
            return None
        try:
            return template_field.queryset.get(pk=int(raw))
        except (TypeError, ValueError, Template.DoesNotExist):
            return None

    def _add_variable_fields(self) -> None:
        template = self.selected_template()
        self.variable_names = list(dict.fromkeys(template.variables)) if template else []
        stored = list(self.instance.variables or []) if self.instance.pk else []
        for index, name in enumerate(self.variable_names):
            source = stored[index] if index < len(stored) else ""
            is_field = isinstance(source, str) and source.startswith("contact.")
            if is_field:
                initial_source = source
            elif source:
                initial_source = LITERAL
            else:
                initial_source = "contact.first_name"
            self.fields[f"var_{index}_source"] = forms.ChoiceField(
                label=f"{{{{{name}}}}}",
                choices=[*CONTACT_FIELDS, (LITERAL, "Text I type")],
                initial=initial_source,
            )
            self.fields[f"var_{index}_text"] = forms.CharField(
                label=f"Text for {{{{{name}}}}}",
                required=False,
                initial="" if is_field else source,
            )

    def variable_fields(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [
            (self[f"var_{index}_source"], self[f"var_{index}_text"])
            for index in range(len(self.variable_names))
        ]

    def clean(self):
        cleaned = super().clean() or {}
        if cleaned.get("audience") == "tags" and not cleaned.get("tags"):
            self.add_error("tags", "Pick at least one tag, or send to all contacts.")
        fallback_text = cleaned.get("fallback_text") or ""
        if cleaned.get("fallback_enabled") and not fallback_text.strip():
            self.add_error(
                "fallback_text", "Write the SMS text, or turn off sending it as a fallback."
            )
        for error in validation.sms_text_errors(fallback_text):
            self.add_error("fallback_text", error)
        variables = []
        for index, name in enumerate(self.variable_names):
            source = cleaned.get(f"var_{index}_source")
            if source == LITERAL:
                text = (cleaned.get(f"var_{index}_text") or "").strip()
                if not text:
                    self.add_error(
                        f"var_{index}_text",
                        f"Type the text for {{{{{name}}}}}, or fill it from a contact field.",
                    )
                # Text starting with "contact." is read as a field name when sending.
                elif text_error := validation.source_error(text, f"The text for {{{{{name}}}}}"):
                    self.add_error(f"var_{index}_text", text_error)
                variables.append(text)
            else:
                variables.append(source or "")
        cleaned["variables"] = variables
        in_list = cleaned.get("audience") == "list"
        cleaned["audience_phones"] = self.clean_audience_list(cleaned) if in_list else []
        self.clean_schedule(cleaned)
        return cleaned

    def save(self, commit: bool = True) -> Campaign:
        campaign = super().save(commit=False)
        campaign.sub_account = self.sub_account
        campaign.variables = self.cleaned_data["variables"]
        audience_tags = self.cleaned_data.get("tags") or []
        campaign.audience_tags = audience_tags if self.cleaned_data["audience"] == "tags" else []
        campaign.audience_phones = self.cleaned_data["audience_phones"]
        self.apply_schedule(campaign)
        if commit:
            campaign.save()
        return campaign
