"""Rate cards: what each delivered message costs an agency, per channel and country.

Prices are provider cost in the agency's billing currency. The agency price adds the
agency's markup on top: cost x (1 + markup).
"""

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

from campaigns.models import Agency, TemplateCategory

# Meta prices a template message by its category and the recipient's country calling code.
CALLING_CODE = RegexValidator(r"^[1-9][0-9]{0,3}$", "Enter a country calling code, e.g. 44.")
# Twilio prices SMS per segment and destination country (ISO 3166 alpha-2).
COUNTRY = RegexValidator(r"^[A-Z]{2}$", "Enter a two-letter country code, e.g. GB.")
PRICE = {
    "max_digits": 10,
    "decimal_places": 5,
    "validators": [MinValueValidator(0)],
}


class WhatsAppRate(models.Model):
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="whatsapp_rates")
    category = models.CharField(max_length=20, choices=TemplateCategory.choices)
    calling_code = models.CharField(
        max_length=4, validators=[CALLING_CODE], help_text="country calling code without +"
    )
    price = models.DecimalField("price per message", **PRICE)  # type: ignore[arg-type]

    class Meta:
        verbose_name = "WhatsApp rate"
        ordering = ["agency", "category", "calling_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "category", "calling_code"], name="unique_whatsapp_rate"
            ),
        ]

    def __str__(self) -> str:
        return f"WhatsApp {self.category} +{self.calling_code}: {self.price}"


class SmsRate(models.Model):
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="sms_rates")
    country = models.CharField(max_length=2, validators=[COUNTRY], help_text="ISO 3166 alpha-2")
    price = models.DecimalField("price per segment", **PRICE)  # type: ignore[arg-type]

    class Meta:
        verbose_name = "SMS rate"
        ordering = ["agency", "country"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "country"], name="unique_sms_rate"),
        ]

    def __str__(self) -> str:
        return f"SMS {self.country}: {self.price} per segment"
