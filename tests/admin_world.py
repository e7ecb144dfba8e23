"""Two agencies with one row of every admin-registered model each, and their staff."""

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import Group, User
from django.db.models import Model

from campaigns import roles
from campaigns.models import (
    Agency,
    ApiKey,
    Campaign,
    Contact,
    Decision,
    Recipient,
    SubAccount,
    Template,
)
from messaging.models import (
    Channel,
    DeliveryAttempt,
    PolicyOverride,
    Provider,
    ProviderEvent,
    WebhookDelivery,
    WebhookEndpoint,
)
from reports.models import SmsRate, WhatsAppRate
from tests.factories import (
    AgencyFactory,
    CampaignFactory,
    ContactFactory,
    RecipientFactory,
    SubAccountFactory,
    TemplateFactory,
)


@dataclass
class AgencyWorld:
    agency: Agency
    sub_account: SubAccount
    contact: Contact
    template: Template
    campaign: Campaign
    recipient: Recipient
    decision: Decision
    attempt: DeliveryAttempt
    event: ProviderEvent
    staff: User
    whatsapp_rate: WhatsAppRate
    sms_rate: SmsRate
    api_key: ApiKey
    webhook_endpoint: WebhookEndpoint
    webhook_delivery: WebhookDelivery
    policy_override: PolicyOverride

    def row(self, model: type[Model]) -> Model:
        """Return this agency's row of the given model."""
        for value in vars(self).values():
            if type(value) is model:
                return value
        raise KeyError(f"no {model.__name__} in the world of {self.agency.name}")


def build_world(prefix: str) -> AgencyWorld:
    """Build an agency whose every name starts with prefix, so pages can be searched for it."""
    agency = AgencyFactory.create(name=f"{prefix} Agency")
    sub_account = SubAccountFactory.create(agency=agency, name=f"{prefix} Client")
    contact = ContactFactory.create(sub_account=sub_account, first_name=f"{prefix}contact")
    template = TemplateFactory.create(sub_account=sub_account, name=f"{prefix.lower()}_offer")
    campaign = CampaignFactory.create(
        sub_account=sub_account, template=template, name=f"{prefix} Sale"
    )
    recipient = RecipientFactory.create(campaign=campaign, contact=contact, reason="131026")
    decision = Decision.objects.create(
        recipient=recipient, event=f"{prefix} event", code="131026", action="fell back"
    )
    attempt = DeliveryAttempt.objects.create(
        recipient=recipient,
        channel=Channel.WHATSAPP,
        status="failed",
        error_code="131026",
        provider_message_id=f"wamid.{prefix}",
    )
    event = ProviderEvent.objects.create(
        provider=Provider.TWILIO, kind="status:failed", attempt=attempt, body=f"From={prefix}"
    )
    staff = User.objects.create_user(f"{prefix.lower()}-staff", is_staff=True)
    staff.groups.add(Group.objects.get(name=roles.AGENCY_STAFF))
    agency.staff.add(staff)
    whatsapp_rate = WhatsAppRate.objects.create(
        agency=agency, category="MARKETING", calling_code="44", price=Decimal("0.05")
    )
    sms_rate = SmsRate.objects.create(agency=agency, country="GB", price=Decimal("0.04"))
    api_key = ApiKey.objects.create(
        sub_account=sub_account,
        name=f"{prefix} sync",
        prefix=f"sbk_{prefix.lower()[:6]}",
        key_digest=f"{prefix.lower()}-digest",
    )
    endpoint = WebhookEndpoint.objects.create(
        sub_account=sub_account, url=f"http://127.0.0.1:9/{prefix.lower()}"
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event="campaign.completed", payload={"prefix": prefix}
    )
    return AgencyWorld(
        agency,
        sub_account,
        contact,
        template,
        campaign,
        recipient,
        decision,
        attempt,
        event,
        staff,
        whatsapp_rate,
        sms_rate,
        api_key,
        endpoint,
        delivery,
        PolicyOverride.objects.create(
            sub_account=sub_account, channel="whatsapp", code="131049", action="terminal"
        ),
    )
