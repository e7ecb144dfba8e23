"""Concurrent requests with one Idempotency-Key, over real HTTP: one creates, the rest replay."""

import threading

import pytest
import requests

from campaigns.models import ApiKey, Contact, SubAccount
from tests.factories import SubAccountFactory

pytestmark = pytest.mark.django_db(transaction=True)

PARALLEL = 5


def test_concurrent_same_key_creates_once(live_server):
    sub_account = SubAccount.objects.get(pk=SubAccountFactory().pk)
    _, key = ApiKey.issue(sub_account, "race")
    start = threading.Barrier(PARALLEL)
    statuses: list[int] = []

    def post() -> None:
        start.wait()
        response = requests.post(
            f"{live_server.url}/api/v1/contacts/",
            json={"phone": "+447400123456"},
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "same"},
            timeout=30,
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=post) for _ in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [201] * PARALLEL
    assert Contact.objects.filter(sub_account=sub_account).count() == 1
