"""Marketer UI pages through the Django test client, scoped to the user's sub-accounts."""

import io

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from campaigns import reasons
from campaigns.models import Campaign, CampaignStatus, Contact, RecipientStatus
from campaigns.templatetags.switchback_ui import state_words
from campaigns.views.campaigns import log_filters
from tests.factories import (
    CampaignFactory,
    ContactFactory,
    RecipientFactory,
    SubAccountFactory,
    TemplateFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sub_account_a():
    return SubAccountFactory(name="Client A")


@pytest.fixture
def sub_account_b():
    return SubAccountFactory(name="Client B")


@pytest.fixture
def marketer_a(sub_account_a):
    user = User.objects.create_user("marketer-a", password="correct horse battery")
    sub_account_a.marketers.add(user)
    return user


@pytest.fixture
def client_a(client, marketer_a):
    client.force_login(marketer_a)
    return client


@pytest.fixture
def campaign_b(sub_account_b):
    campaign = CampaignFactory(sub_account=sub_account_b, status=CampaignStatus.COMPLETED)
    RecipientFactory(campaign=campaign)
    return campaign


def test_pages_need_login(client):
    response = client.get(reverse("campaigns:contact_list"))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_login_page_logs_in(client, marketer_a):
    response = client.post(
        reverse("campaigns:login"),
        {"username": "marketer-a", "password": "correct horse battery"},
    )
    assert response.status_code == 302
    assert client.get(reverse("campaigns:campaign_list")).status_code == 200


def test_logout_ends_session(client_a):
    client_a.post(reverse("campaigns:logout"))
    response = client_a.get(reverse("campaigns:campaign_list"))
    assert response.status_code == 302


@pytest.mark.parametrize(
    "url_name", ["campaign_detail", "campaign_progress", "delivery_log", "delivery_log_csv"]
)
def test_other_sub_account_campaign_404(client_a, campaign_b, url_name):
    response = client_a.get(reverse(f"campaigns:{url_name}", args=[campaign_b.pk]))
    assert response.status_code == 404


def test_other_sub_account_campaign_controls_404(client_a, campaign_b):
    Campaign.objects.filter(pk=campaign_b.pk).update(status=CampaignStatus.RUNNING)
    response = client_a.post(reverse("campaigns:campaign_control", args=[campaign_b.pk, "pause"]))
    assert response.status_code == 404
    campaign_b.refresh_from_db()
    assert campaign_b.status == CampaignStatus.RUNNING


def test_other_sub_account_contact_404(client_a, sub_account_b):
    contact = ContactFactory(sub_account=sub_account_b)
    url = reverse("campaigns:toggle_consent", args=[contact.pk, "sms"])
    response = client_a.post(url)
    assert response.status_code == 404
    contact.refresh_from_db()
    assert contact.sms_opt_out_at is None


def test_contact_list_hides_other_sub_account(client_a, sub_account_a, sub_account_b):
    ContactFactory(sub_account=sub_account_a, phone="+447400123001")
    ContactFactory(sub_account=sub_account_b, phone="+447400123002")
    content = client_a.get(reverse("campaigns:contact_list")).content.decode()
    assert "+447400123001" in content
    assert "+447400123002" not in content


def test_switcher_rejects_foreign_sub_account(client_a, sub_account_b):
    response = client_a.post(
        reverse("campaigns:switch_sub_account"), {"sub_account": sub_account_b.pk}
    )
    assert response.status_code == 404


def test_switcher_changes_lists(client_a, marketer_a, sub_account_b):
    sub_account_b.marketers.add(marketer_a)
    ContactFactory(sub_account=sub_account_b, phone="+447400123002")
    client_a.post(reverse("campaigns:switch_sub_account"), {"sub_account": sub_account_b.pk})
    content = client_a.get(reverse("campaigns:contact_list")).content.decode()
    assert "+447400123002" in content


def test_contact_filters(client_a, sub_account_a):
    ContactFactory(sub_account=sub_account_a, phone="+447400123001", tags=["vip"])
    ContactFactory(sub_account=sub_account_a, phone="+447400123002", tags=["newsletter"])
    content = client_a.get(reverse("campaigns:contact_list"), {"tag": "vip"}).content.decode()
    assert "+447400123001" in content
    assert "+447400123002" not in content


def test_consent_toggle_records_opt_out(client_a, sub_account_a):
    contact = ContactFactory(sub_account=sub_account_a)
    client_a.post(reverse("campaigns:toggle_consent", args=[contact.pk, "whatsapp"]))
    contact.refresh_from_db()
    assert contact.whatsapp_opt_out_at is not None


def test_import_reports_rejected_rows(client_a, sub_account_a):
    data = b"Phone,First Name\n+447400123001,Ana\nnot-a-number,Bo\n"
    upload = io.BytesIO(data)
    upload.name = "contacts.csv"
    response = client_a.post(reverse("campaigns:contact_import"), {"file": upload})
    assert response.context["result"].rejected == 1
    assert Contact.objects.filter(sub_account=sub_account_a).count() == 1
    rejected = client_a.get(reverse("campaigns:rejected_rows_csv")).content.decode()
    assert "not-a-number" in rejected


def test_import_warns_of_ignored_columns(client_a):
    upload = io.BytesIO(b"Mobile,Name,Mail\n+447400123001,Ana,ana@example.com\n")
    upload.name = "contacts.csv"
    page = client_a.post(reverse("campaigns:contact_import"), {"file": upload}).content.decode()

    assert "match no contact field: Name, Mail." in page
    assert '<p class="warn">' in page


def test_import_bad_file_error_next_to_field(client_a):
    upload = io.BytesIO(b"%PDF-1.4 binary")
    upload.name = "contacts.pdf"
    response = client_a.post(reverse("campaigns:contact_import"), {"file": upload})
    assert "PDF" in " ".join(response.context["form"].errors["file"])


def test_compose_saves_draft_and_reviews(client_a, sub_account_a):
    template = TemplateFactory(sub_account=sub_account_a)
    ContactFactory(sub_account=sub_account_a, phone="+447400123001", first_name="Ana")
    response = client_a.post(reverse("campaigns:campaign_new"), _compose_data(template))
    campaign = Campaign.objects.get(name="Spring")
    assert response["Location"] == reverse("campaigns:campaign_review", args=[campaign.pk])
    review = client_a.get(response["Location"])
    assert review.context["counts"].sendable == 1
    assert "Hi Ana, our spring sale" in review.content.decode()


def test_compose_error_next_to_sms_text(client_a, sub_account_a):
    template = TemplateFactory(sub_account=sub_account_a)
    response = client_a.post(
        reverse("campaigns:campaign_new"),
        {
            "name": "Spring",
            "template": template.pk,
            "audience": "all",
            "var_0_source": "contact.first_name",
            "fallback_enabled": "on",
            "fallback_text": "",
        },
    )
    assert "fallback_text" in response.context["form"].errors


def test_compose_offers_only_approved_templates(client_a, sub_account_a):
    TemplateFactory(sub_account=sub_account_a, name="approved_one")
    TemplateFactory(sub_account=sub_account_a, name="paused_one", status="PAUSED")
    content = client_a.get(reverse("campaigns:campaign_new")).content.decode()
    assert "approved_one" in content
    assert "paused_one" not in content


def test_live_counter_shows_ucs2(client_a, sub_account_a):
    template = TemplateFactory(sub_account=sub_account_a)
    response = client_a.post(
        reverse("campaigns:compose_live"),
        {
            "template": template.pk,
            "audience": "all",
            "fallback_text": "Sale \u2019on\u2019 \U0001f389",
        },
    )
    sms = response.context["sms"]
    assert sms.encoding == "UCS-2"
    assert sms.replaceable == {"\u2019": "'"}


def test_us_marketing_count(client_a, sub_account_a):
    template = TemplateFactory(sub_account=sub_account_a)
    ContactFactory(sub_account=sub_account_a, phone="+12025550123", country="US")
    ContactFactory(sub_account=sub_account_a, phone="+447400123001")
    response = client_a.post(
        reverse("campaigns:compose_live"),
        {
            "template": template.pk,
            "audience": "all",
            "fallback_enabled": "on",
            "fallback_text": "Hi",
        },
    )
    assert response.context["us_marketing"] == 1


def test_template_pages_render(client_a, sub_account_a):
    template = TemplateFactory(sub_account=sub_account_a)
    assert client_a.get(reverse("campaigns:template_list")).status_code == 200
    detail = client_a.get(reverse("campaigns:template_detail", args=[template.pk]))
    assert detail.context["analysis"].reads_as_marketing


def test_other_sub_account_template_404(client_a, sub_account_b):
    template = TemplateFactory(sub_account=sub_account_b)
    response = client_a.get(reverse("campaigns:template_detail", args=[template.pk]))
    assert response.status_code == 404


def test_delivery_log_filters_fallbacks(client_a, sub_account_a):
    campaign = CampaignFactory(sub_account=sub_account_a, status=CampaignStatus.COMPLETED)
    RecipientFactory(campaign=campaign, fallback_triggered=True, status="delivered_sms")
    RecipientFactory(campaign=campaign, status="delivered_whatsapp")
    response = client_a.get(
        reverse("campaigns:delivery_log", args=[campaign.pk]), {"sms": "fallback"}
    )
    assert response.context["page"].paginator.count == 1


def test_delivery_log_csv_export(client_a, sub_account_a):
    campaign = CampaignFactory(sub_account=sub_account_a, status=CampaignStatus.COMPLETED)
    RecipientFactory(campaign=campaign, status="skipped", reason="invalid_number")
    response = client_a.get(reverse("campaigns:delivery_log_csv", args=[campaign.pk]))
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("phone,country,route,final_state")
    assert "the phone number is not a valid number" in lines[1]


def test_campaign_page_polls_while_running(client_a, sub_account_a):
    campaign = CampaignFactory(sub_account=sub_account_a, status=CampaignStatus.RUNNING)
    RecipientFactory(campaign=campaign)
    response = client_a.get(reverse("campaigns:campaign_detail", args=[campaign.pk]))
    assert 'hx-trigger="every 2s"' in response.content.decode()


def test_pause_own_running_campaign(client_a, sub_account_a):
    campaign = CampaignFactory(sub_account=sub_account_a, status=CampaignStatus.RUNNING)
    client_a.post(reverse("campaigns:campaign_control", args=[campaign.pk, "pause"]))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PAUSED


def test_unknown_control_action_404(client_a, sub_account_a):
    campaign = CampaignFactory(sub_account=sub_account_a, status=CampaignStatus.RUNNING)
    response = client_a.post(reverse("campaigns:campaign_control", args=[campaign.pk, "restart"]))
    assert response.status_code == 404


def test_delivery_log_query_count(client_a, sub_account_a, django_assert_max_num_queries):
    campaign = CampaignFactory(sub_account=sub_account_a, status=CampaignStatus.COMPLETED)
    for _ in range(20):
        RecipientFactory(campaign=campaign, status="delivered_whatsapp")
    with django_assert_max_num_queries(15):
        response = client_a.get(reverse("campaigns:delivery_log", args=[campaign.pk]))
    assert len(response.context["rows"]) == 20


def test_review_counts_routes(client_a, sub_account_a):
    campaign = CampaignFactory(sub_account=sub_account_a)
    ContactFactory(sub_account=sub_account_a, phone="+12025550123", country="US")
    ContactFactory(sub_account=sub_account_a, phone="+447400123001")
    ContactFactory(sub_account=sub_account_a, phone="+99912345")
    counts = client_a.get(reverse("campaigns:campaign_review", args=[campaign.pk])).context[
        "counts"
    ]
    assert counts.by_route["direct_sms"] == 1
    assert counts.by_route["whatsapp"] == 1
    assert counts.skipped_by_reason["invalid_number"] == 1


def test_launch_from_review(client_a, sub_account_a):
    campaign = CampaignFactory(sub_account=sub_account_a)
    ContactFactory(sub_account=sub_account_a)
    response = client_a.post(reverse("campaigns:campaign_launch", args=[campaign.pk]))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.LAUNCHING
    assert response["Location"] == reverse("campaigns:campaign_detail", args=[campaign.pk])


def test_rewriter_analyzes_posted_body(client_a, sub_account_a):
    template = TemplateFactory(sub_account=sub_account_a)
    response = client_a.post(
        reverse("campaigns:template_detail", args=[template.pk]),
        {"body": "Your order {{1}} has shipped."},
        HTTP_HX_REQUEST="true",
    )
    assert response.templates[0].name == "campaigns/templates/_analysis.html"
    assert not response.context["analysis"].reads_as_marketing


def test_reason_filter_names_code_once():
    campaign = CampaignFactory.create()
    RecipientFactory(campaign=campaign, reason="131026", status="failed_whatsapp")
    RecipientFactory(campaign=campaign, reason="us_marketing", status="delivered_sms")

    labels = dict(log_filters(campaign)["reasons"])

    assert labels["131026"] == "131026: number not reachable on WhatsApp"
    assert labels["us_marketing"].startswith("us_marketing: Meta refuses MARKETING templates")


def test_reason_filter_not_truncated(client_a, sub_account_a):
    campaign = CampaignFactory(sub_account=sub_account_a, status=CampaignStatus.COMPLETED)
    RecipientFactory(campaign=campaign, reason=reasons.OUTCOME_UNKNOWN, status="failed_both")
    label = f"{reasons.OUTCOME_UNKNOWN}: {reasons.WORDS[reasons.OUTCOME_UNKNOWN]}"

    page = client_a.get(reverse("campaigns:delivery_log", args=[campaign.pk])).content.decode()

    assert f'title="{label}"' in page
    assert f">{label}</option>" in page


@pytest.mark.parametrize("status", RecipientStatus)
def test_state_words_match_model_labels(status):
    assert state_words(status.value) == status.label


def test_delivery_log_names_pending_sms(client_a, sub_account_a):
    campaign = CampaignFactory(sub_account=sub_account_a, status=CampaignStatus.RUNNING)
    RecipientFactory(campaign=campaign, status=RecipientStatus.SMS_PENDING)

    page = client_a.get(reverse("campaigns:delivery_log", args=[campaign.pk])).content.decode()

    assert f">{RecipientStatus.SMS_PENDING.label}</span>" in page
    assert "waiting to send SMS" not in page


def _compose_data(template, **changes) -> dict:
    data = {
        "name": "Spring",
        "template": template.pk,
        "audience": "all",
        "var_0_source": "contact.first_name",
        "fallback_enabled": "on",
        "fallback_text": "Hi {first_name}, sale on.",
        "direct_sms_for_us_marketing": "on",
    }
    return {**data, **changes}


def test_compose_rejects_misspelled_merge_field(client_a, sub_account_a):
    template = TemplateFactory(sub_account=sub_account_a)
    data = _compose_data(template, fallback_text="Hi {frist_name}, sale on.")
    response = client_a.post(reverse("campaigns:campaign_new"), data)

    [error] = response.context["form"].errors["fallback_text"]
    assert "{frist_name} (did you mean {first_name}?)" in error
    assert not Campaign.objects.exists()


def test_compose_rejects_contact_prefix_text(client_a, sub_account_a):
    template = TemplateFactory(sub_account=sub_account_a)
    data = _compose_data(template, var_0_source="literal", var_0_text="contact.nope")
    response = client_a.post(reverse("campaigns:campaign_new"), data)

    [error] = response.context["form"].errors["var_0_text"]
    assert error.startswith("The text for {{1}} is 'contact.nope'")
    assert not Campaign.objects.exists()


def test_review_lists_launch_errors(client_a, sub_account_a):
    campaign = CampaignFactory(sub_account=sub_account_a, audience_tags=["vpi"])
    ContactFactory(sub_account=sub_account_a, tags=["vip"])
    response = client_a.get(reverse("campaigns:campaign_review", args=[campaign.pk]))

    content = response.content.decode()
    assert "No contact has the tag &#x27;vpi&#x27;. Did you mean &#x27;vip&#x27;" in content
    assert "Launch to" not in content


def test_launch_from_review_rejects_empty_audience(client_a, sub_account_a):
    campaign = CampaignFactory(sub_account=sub_account_a)
    response = client_a.post(reverse("campaigns:campaign_launch", args=[campaign.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse(
        "campaigns:campaign_review", args=[campaign.pk]
    )
    assert "This sub-account has no contacts" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
