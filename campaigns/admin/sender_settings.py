"""The sub-account form's sender secrets, which are write-only.

The WhatsApp access token and the Twilio auth token are never sent back to a browser: the
inputs always render empty, the page shows whether a value is stored, a blank input keeps
the stored value and a "clear" box removes it.
"""

from typing import Any

from django import forms

from campaigns.models import SubAccount

SECRET_FIELDS = {
    "whatsapp_access_token": "WhatsApp access token",
    "twilio_auth_token": "Twilio auth token",
}


def clear_field(name: str) -> str:
    return f"clear_{name}"


def secret_state(sub_account: SubAccount | None, name: str) -> str:
    return "set" if sub_account is not None and getattr(sub_account, name) else "not set"


class SubAccountForm(forms.ModelForm):
    class Meta:
        model = SubAccount
        fields = [
            "agency",
            "name",
            "timezone",
            "marketers",
            "whatsapp_phone_number_id",
            "whatsapp_business_account_id",
            "whatsapp_display_number",
            "whatsapp_access_token",
            "twilio_account_sid",
            "twilio_auth_token",
            "sms_from_number",
            "sms_countries",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stored = self.instance if self.instance.pk else None
        for name, label in SECRET_FIELDS.items():
            if name not in self.fields:
                continue
            self.fields[name] = forms.CharField(
                label=label,
                required=False,
                strip=True,
                max_length=SubAccount._meta.get_field(name).max_length,  # type: ignore[union-attr]
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
                help_text=f"Currently {secret_state(stored, name)}. "
                "Leave blank to keep the stored value.",
            )
            self.initial.pop(name, None)
            self.fields[clear_field(name)] = forms.BooleanField(
                label=f"Clear the {label}", required=False
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in SECRET_FIELDS:
            if name not in self.fields:
                continue
            if cleaned.get(clear_field(name)):
                if cleaned.get(name):
                    self.add_error(
                        clear_field(name),
                        f"Either enter a new {SECRET_FIELDS[name]} or clear it, not both.",
                    )
                cleaned[name] = ""
            elif not cleaned.get(name):
                cleaned[name] = getattr(self.instance, name) if self.instance.pk else ""
        return cleaned

    def has_changed(self) -> bool:
        return bool(self.changed_data)

    @property
    def changed_data(self) -> list[str]:
        # A blank secret input means "keep", so it counts as a change only when something was
        # typed or the clear box was ticked. The admin history names the field, not the value.
        changed = [name for name in super().changed_data if name not in SECRET_FIELDS]
        for name in SECRET_FIELDS:
            if name in self.fields and (self.data.get(self.add_prefix(name)) or "").strip():
                changed.append(name)
        return changed
