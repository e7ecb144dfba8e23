"""factory-boy factories: each test builds only the rows it needs."""

import factory

from campaigns.models import (
    Agency,
    Campaign,
    Contact,
    Recipient,
    SubAccount,
    Template,
    TemplateCategory,
)


class AgencyFactory(factory.django.DjangoModelFactory[Agency]):
    class Meta:
        model = Agency

    name = factory.Sequence(lambda n: f"Agency {n}")


class SubAccountFactory(factory.django.DjangoModelFactory[SubAccount]):
    class Meta:
        model = SubAccount

    agency = factory.SubFactory(AgencyFactory)
    name = factory.Sequence(lambda n: f"Client {n}")
    whatsapp_phone_number_id = factory.Sequence(lambda n: f"10{n:08d}")
    whatsapp_business_account_id = factory.Sequence(lambda n: f"20{n:08d}")
    whatsapp_display_number = "+15550100001"
    whatsapp_access_token = "test-whatsapp-token"
    twilio_account_sid = factory.Sequence(lambda n: f"AC{n:032x}")
    twilio_auth_token = "test-twilio-token"
    sms_from_number = "+15550100002"


class TemplateFactory(factory.django.DjangoModelFactory[Template]):
    class Meta:
        model = Template

    sub_account = factory.SubFactory(SubAccountFactory)
    name = "spring_sale"
    language = "en_US"
    category = TemplateCategory.MARKETING
    body = "Hi {{1}}, our spring sale is on: 20% off everything until Sunday."


class ContactFactory(factory.django.DjangoModelFactory[Contact]):
    class Meta:
        model = Contact

    sub_account = factory.SubFactory(SubAccountFactory)
    phone = factory.Sequence(lambda n: f"+4477009{n:05d}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    country = "GB"


class CampaignFactory(factory.django.DjangoModelFactory[Campaign]):
    class Meta:
        model = Campaign

    sub_account = factory.SubFactory(SubAccountFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    template = factory.SubFactory(
        TemplateFactory, sub_account=factory.SelfAttribute("..sub_account")
    )
    variables = ["contact.first_name"]
    fallback_text = (
        "Hi {first_name}, our spring sale is on: 20% off until Sunday. Reply STOP to opt out."
    )


class RecipientFactory(factory.django.DjangoModelFactory[Recipient]):
    class Meta:
        model = Recipient

    campaign = factory.SubFactory(CampaignFactory)
    contact = factory.SubFactory(
        ContactFactory, sub_account=factory.SelfAttribute("..campaign.sub_account")
    )
    phone = factory.SelfAttribute("contact.phone")
    country = factory.SelfAttribute("contact.country")
