"""Pre-aggregated report cells of finished campaigns.

A cell counts the recipients of one campaign that share every column a figure, a
grouping or a charge depends on. A report over a million recipients then reads a few
hundred cells instead of joining a million recipients with their attempts.
"""

from django.db import models

from campaigns.models import Campaign


class CampaignRollup(models.Model):
    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="rollup")
    # Cells are valid while no recipient or attempt of the campaign changed after this.
    computed_at = models.DateTimeField()
    # The time zone of the cells' days; "" for cells stored before days were local.
    time_zone = models.CharField(max_length=64, blank=True, default="")

    def __str__(self) -> str:
        return f"rollup of campaign {self.campaign_id} at {self.computed_at:%Y-%m-%d %H:%M:%S}"


class ReportCell(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="report_cells")
    # The local day the recipient reached its final state, in its sub-account's time zone;
    # null while it is still in flight.
    day = models.DateField(null=True)
    country = models.CharField(max_length=2, blank=True)
    category = models.CharField(max_length=20, blank=True)
    route = models.CharField(max_length=16)
    status = models.CharField(max_length=20)
    reason = models.CharField(max_length=64, blank=True)
    fallback_triggered = models.BooleanField()
    delivered_both = models.BooleanField()
    # Status and error code of the recipient's WhatsApp and SMS attempts; "" when none.
    wa_status = models.CharField(max_length=16, blank=True)
    wa_code = models.CharField(max_length=16, blank=True)
    sms_status = models.CharField(max_length=16, blank=True)
    sms_code = models.CharField(max_length=16, blank=True)
    sms_segments = models.PositiveSmallIntegerField(null=True)
    recipients = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["campaign", "day"])]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id}: {self.recipients} {self.status} on {self.day}"
