"""Per-sub-account overrides of the fallback policy table, set by agency staff in admin."""

from django.core.validators import RegexValidator
from django.db import models

from ..policy import Action, Halt, Rule, with_action
from .attempts import Channel


class HaltChoice(models.TextChoices):
    TABLE = "table", "as in the table"
    NONE = "none", "no halt"
    TEMPLATE = "template", "stop using the template"
    CAMPAIGN = "campaign", "pause the campaign"


HALT_FOR_CHOICE = {
    HaltChoice.NONE: Halt.NONE,
    HaltChoice.TEMPLATE: Halt.TEMPLATE,
    HaltChoice.CAMPAIGN: Halt.CAMPAIGN,
}


class PolicyOverride(models.Model):
    """Another class for one provider error code, for one sub-account only."""

    sub_account = models.ForeignKey(
        "campaigns.SubAccount", on_delete=models.CASCADE, related_name="policy_overrides"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    code = models.CharField(
        max_length=16,
        validators=[
            RegexValidator(r"^[0-9]+$", "Enter the provider's numeric error code, e.g. 131049.")
        ],
        help_text="provider error code, e.g. 131049 or 30007",
    )
    action = models.CharField(
        max_length=16,
        choices=[
            (action.value, action.value.replace("fallback", "fall back")) for action in Action
        ],
    )
    halt = models.CharField(max_length=16, choices=HaltChoice.choices, default=HaltChoice.TABLE)
    note = models.CharField(max_length=200, blank=True, help_text="why staff changed the class")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sub_account", "channel", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["sub_account", "channel", "code"], name="one_override_per_code"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.code}: {self.action}"

    def apply(self, rule: Rule) -> Rule:
        halt = HALT_FOR_CHOICE.get(HaltChoice(self.halt))
        return with_action(rule, Action(self.action), halt, "overridden for this sub-account")
