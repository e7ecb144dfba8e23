"""API errors that name the bad value and the fix."""

import pytest

pytestmark = pytest.mark.django_db


def test_unknown_id_named(api):
    response = api.get("/api/v1/campaigns/abc/")

    assert response.status_code == 404
    message = response.json()["error"]["message"]
    assert "No object with id 'abc' in this sub-account" in message
    assert "GET /api/v1/campaigns/ lists the ids" in message


def test_malformed_json_explained(api):
    response = api.post("/api/v1/campaigns/", "{not json", content_type="application/json")

    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert message.startswith("JSON parse error")
    assert "Content-Type: application/json" in message
