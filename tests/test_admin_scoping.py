"""Staff of one agency see, open, change, delete and act on their own agency's rows only."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.db.models import Model
from django.forms import ModelChoiceField
from django.test import Client, RequestFactory
from django.urls import reverse

from campaigns import roles
from campaigns.admin_scoping import AgencyScopedAdmin
from campaigns.models import (
    Agency,
    ApiKey,
    Campaign,
    CampaignStatus,
    Contact,
    Recipient,
    SubAccount,
    Template,
)
from messaging.models import (
    DeliveryAttempt,
    PolicyOverride,
    ProviderEvent,
    WebhookDelivery,
    WebhookEndpoint,
)
from reports.models import SmsRate, WhatsAppRate
from tests.admin_world import AgencyWorld, build_world

pytestmark = pytest.mark.django_db

SCOPED_MODELS = [
    Agency,
    SubAccount,
    Contact,
    Template,
    Campaign,
    Recipient,
    DeliveryAttempt,
    ProviderEvent,
    WhatsAppRate,
    SmsRate,
    ApiKey,
    WebhookEndpoint,
    WebhookDelivery,
    PolicyOverride,
]
# Registered models that are not an agency's: agency staff have no permission on them.
UNSCOPED_MODELS = ["auth.User", "auth.Group", "django_rq.Dashboard"]


@pytest.fixture
def home() -> AgencyWorld:
    return build_world("Home")


@pytest.fixture
def other() -> AgencyWorld:
    return build_world("Yonder")


@pytest.fixture
def staff_client(home: AgencyWorld, other: AgencyWorld) -> Client:
    client = Client()
    client.force_login(home.staff)
    return client


def url(model: type[Model], view: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def snapshot(row: Model) -> list[dict]:
    return list(type(row).objects.filter(pk=row.pk).values())


def test_every_registered_model_covered():
    registered = {model._meta.label for model in admin.site._registry}
    covered = {model._meta.label for model in SCOPED_MODELS} | set(UNSCOPED_MODELS)
    assert registered == covered


@pytest.mark.parametrize("model", SCOPED_MODELS, ids=lambda m: m.__name__)
def test_admin_is_scoped(model):
    assert isinstance(admin.site._registry[model], AgencyScopedAdmin)


@pytest.mark.parametrize("label", UNSCOPED_MODELS)
def test_unscoped_models_forbidden(staff_client, label):
    app_label, model_name = label.lower().split(".")
    response = staff_client.get(reverse(f"admin:{app_label}_{model_name}_changelist"))
    assert response.status_code == 403


def test_job_dashboard_forbidden(staff_client):
    response = staff_client.get("/django-rq/")
    assert response.status_code == 403


@pytest.mark.parametrize("model", SCOPED_MODELS, ids=lambda m: m.__name__)
def test_changelist_lists_own_rows_only(staff_client, home, other, model):
    response = staff_client.get(url(model, "changelist"))

    listed = {row.pk for row in response.context["cl"].result_list}
    assert home.row(model).pk in listed
    assert other.row(model).pk not in listed
    assert "Yonder" not in response.content.decode()


@pytest.mark.parametrize("model", SCOPED_MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_other_agency_pages_404(staff_client, other, model, view):
    response = staff_client.get(url(model, view, other.row(model).pk))
    assert response.status_code == 404


@pytest.mark.parametrize("model", SCOPED_MODELS, ids=lambda m: m.__name__)
def test_own_change_page_opens(staff_client, home, model):
    response = staff_client.get(url(model, "change", home.row(model).pk))
    assert response.status_code == 200


@pytest.mark.parametrize("model", SCOPED_MODELS, ids=lambda m: m.__name__)
def test_other_agency_change_post_404(staff_client, other, model):
    row = other.row(model)
    before = snapshot(row)

    response = staff_client.post(url(model, "change", row.pk), {"name": "taken over"})

    assert response.status_code == 404
    assert snapshot(row) == before


@pytest.mark.parametrize("model", SCOPED_MODELS, ids=lambda m: m.__name__)
def test_other_agency_delete_post_404(staff_client, other, model):
    row = other.row(model)

    response = staff_client.post(url(model, "delete", row.pk), {"post": "yes"})

    assert response.status_code == 404
    assert type(row).objects.filter(pk=row.pk).exists()


def _actions(model: type[Model], user: User) -> list[str]:
    request = RequestFactory().get("/")
    request.user = user
    return list(admin.site._registry[model].get_actions(request))


@pytest.mark.parametrize("model", SCOPED_MODELS, ids=lambda m: m.__name__)
def test_actions_skip_other_agency(staff_client, home, other, model):
    row = other.row(model)
    before = snapshot(row)
    actions = _actions(model, home.staff)

    for action in actions:
        staff_client.post(
            url(model, "changelist"),
            {"action": action, "_selected_action": [row.pk], "post": "yes"},
        )

    assert snapshot(row) == before


def test_staff_has_actions_to_test():
    # Guards the test above: with no actions it would pass without checking anything.
    staff = User.objects.create_user("probe", is_staff=True)
    staff.groups.add(Group.objects.get(name=roles.AGENCY_STAFF))
    assert "cancel" in _actions(Campaign, staff)


def test_action_runs_on_own_rows(staff_client, home):
    home.campaign.status = CampaignStatus.RUNNING
    home.campaign.save()

    staff_client.post(
        url(Campaign, "changelist"), {"action": "pause", "_selected_action": [home.campaign.pk]}
    )

    home.campaign.refresh_from_db()
    assert home.campaign.status == CampaignStatus.PAUSED


def _choice_fields(response) -> dict[str, ModelChoiceField]:
    form = response.context["adminform"].form
    return {
        name: field for name, field in form.fields.items() if isinstance(field, ModelChoiceField)
    }


@pytest.mark.parametrize("model", [SubAccount, Contact, Template, Campaign, Agency])
def test_choices_show_own_agency_only(staff_client, home, other, model):
    response = staff_client.get(url(model, "change", home.row(model).pk))
    fields = _choice_fields(response)

    assert fields, f"{model.__name__} form has no choice field to check"
    for name, field in fields.items():
        assert field.queryset is not None, name
        related = field.queryset.model
        if related is User:
            assert other.staff not in field.queryset, name
            continue
        assert other.row(related).pk not in set(field.queryset.values_list("pk", flat=True)), name
        assert home.row(related).pk in set(field.queryset.values_list("pk", flat=True)), name


def test_foreign_sub_account_rejected_on_add(staff_client, other):
    response = staff_client.post(
        url(Contact, "add"), {"sub_account": other.sub_account.pk, "phone": "+447700900999"}
    )

    assert response.status_code == 200
    assert "sub_account" in response.context["adminform"].form.errors
    assert not Contact.objects.filter(phone="+447700900999").exists()


def test_superuser_sees_every_agency(home, other):
    superuser = User.objects.create_superuser("root", password=None)
    client = Client()
    client.force_login(superuser)

    response = client.get(url(Campaign, "changelist"))

    listed = {row.pk for row in response.context["cl"].result_list}
    assert listed == {home.campaign.pk, other.campaign.pk}


def test_staff_of_two_agencies_rejected(home, other):
    superuser = User.objects.create_superuser("root", password=None)
    client = Client()
    client.force_login(superuser)

    response = client.post(
        url(Agency, "change", other.agency.pk),
        {"name": other.agency.name, "markup": "0", "staff": [other.staff.pk, home.staff.pk]},
    )

    assert "staff" in response.context["adminform"].form.errors
    assert not other.agency.staff.filter(pk=home.staff.pk).exists()


def test_groups_have_role_permissions():
    staff = Group.objects.get(name=roles.AGENCY_STAFF)
    marketer = Group.objects.get(name=roles.MARKETER)
    staff_codes = set(staff.permissions.values_list("codename", flat=True))
    marketer_codes = set(marketer.permissions.values_list("codename", flat=True))

    assert {"change_subaccount", "view_deliveryattempt", "delete_campaign"} <= staff_codes
    assert "add_agency" not in staff_codes
    assert "change_recipient" not in staff_codes
    assert {"add_campaign", "view_template"} <= marketer_codes
    assert "delete_campaign" not in marketer_codes


@pytest.mark.parametrize("model", [SubAccount, Contact, Template, Campaign])
def test_add_page_opens(staff_client, model):
    response = staff_client.get(url(model, "add"))
    assert response.status_code == 200


def test_linked_marketer_joins_group(staff_client, home):
    marketer = User.objects.create_user("marketer")
    home.sub_account.marketers.add(marketer)
    data = {
        "agency": home.agency.pk,
        "name": home.sub_account.name,
        "timezone": "UTC",
        "marketers": [marketer.pk],
        "sms_countries": "[]",
    }

    response = staff_client.post(url(SubAccount, "change", home.sub_account.pk), data)

    assert response.status_code == 302
    assert marketer.groups.filter(name=roles.MARKETER).exists()
