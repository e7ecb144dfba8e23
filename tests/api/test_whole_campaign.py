"""One campaign driven only through the API over real HTTP: template sync, contact import,
webhook endpoint, create, launch, delivery log, report and the completion webhook."""

import json

import pytest
import requests

from campaigns.models import ApiKey, SubAccount
from tests.api.receiver import receiver
from tests.conftest import wait_until
from tests.factories import SubAccountFactory

pytestmark = pytest.mark.django_db(transaction=True)

GB_MOBILE = "+447400123456"
GB_MOBILE_UNREACHABLE = "+447400123457"
CSV = (
    "Phone,First Name,Tags\n"
    f"{GB_MOBILE},Ana,spring\n"
    f"{GB_MOBILE_UNREACHABLE},Bo,spring\n"
    "12345,Cy,spring\n"
).encode()


def test_campaign_through_api(live_server, sandbox):
    sandbox.configure(unreachable_percent=0, whatsapp_fail_codes={GB_MOBILE_UNREACHABLE: 131026})
    _, key = ApiKey.issue(SubAccount.objects.get(pk=SubAccountFactory().pk), "e2e")
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {key}"
    api = f"{live_server.url}/api/v1"

    assert http.post(f"{api}/templates/sync/").json()["synced"] >= 1
    templates = http.get(f"{api}/templates/").json()["results"]
    template = next(t for t in templates if t["name"] == "spring_sale")

    with receiver() as hooks:
        http.post(
            f"{api}/webhook-endpoints/", json={"url": hooks.url, "events": ["campaign.completed"]}
        )

        job = http.post(f"{api}/contact-imports/", files={"file": ("c.csv", CSV)}).json()
        assert wait_until(
            lambda: http.get(f"{api}/contact-imports/{job['id']}/").json()["status"] == "done"
        )

        body = {
            "name": "Spring",
            "template": template["id"],
            "audience_tags": ["spring"],
            "variables": ["contact.first_name"] * len(template["variables"]),
            "fallback_text": "Hi {first_name}, spring sale. Reply STOP to opt out.",
        }
        campaign = http.post(f"{api}/campaigns/", json=body, headers={"Idempotency-Key": "c1"})
        campaign_url = f"{api}/campaigns/{campaign.json()['id']}"
        assert http.post(f"{campaign_url}/launch/").status_code == 200
        assert wait_until(lambda: http.get(f"{campaign_url}/").json()["status"] == "completed")

        report = http.get(f"{campaign_url}/report/").json()
        log = http.get(f"{campaign_url}/recipients/?status=delivered_sms").json()["results"]
        assert wait_until(lambda: bool(hooks.requests), timeout=10)

    assert report["total"]["figures"]["whatsapp_delivered"] == 1
    assert report["total"]["figures"]["recovered"] == 1
    assert [r["phone"] for r in log] == [GB_MOBILE_UNREACHABLE]
    sent = json.loads(hooks.requests[0].body)["data"]["report"]
    assert sent["total"]["figures"]["delivered"] == 2
