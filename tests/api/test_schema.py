"""The OpenAPI schema and the Swagger UI, served without a CDN."""

import pytest

pytestmark = pytest.mark.django_db


def test_schema_lists_campaign_launch(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "post" in schema["paths"]["/api/v1/campaigns/{id}/launch/"]


def test_docs_use_local_assets(client):
    page = client.get("/api/docs/").content.decode()
    assert "cdn.jsdelivr.net" not in page


def test_docs_load_swagger_from_static(client):
    page = client.get("/api/docs/").content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page


def test_unknown_api_path_is_json_404(client):
    assert client.get("/api/v1/nothing/").json()["error"]["code"] == "not_found"
