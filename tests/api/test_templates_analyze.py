"""Template analysis: the phrases that read as marketing and the proposed rewrite."""

import pytest

pytestmark = pytest.mark.django_db

ANALYZE = "/api/v1/templates/analyze/"
PROMOTION = "Hi {{1}}! Get 20% off your next order. Your order {{2}} has shipped."


def test_analyze_lists_phrases(api):
    findings = api.post(ANALYZE, {"body": PROMOTION}, format="json").json()["findings"]
    assert [f["kind"] for f in findings] == ["greeting", "discount"]


def test_analyze_gives_reasons(api):
    findings = api.post(ANALYZE, {"body": PROMOTION}, format="json").json()["findings"]
    assert findings[1]["reason"] == "mentions a discount or price cut"


def test_analyze_phrase_offsets(api):
    finding = api.post(ANALYZE, {"body": PROMOTION}, format="json").json()["findings"][1]
    assert PROMOTION[finding["start"] : finding["end"]] == finding["phrase"]


def test_analyze_proposes_rewrite(api):
    result = api.post(ANALYZE, {"body": PROMOTION}, format="json").json()
    assert result["rewrite"] == "{{1}}, your order {{2}} has shipped."


def test_analyze_flags_marketing(api):
    result = api.post(ANALYZE, {"body": PROMOTION}, format="json").json()
    assert result["reads_as_marketing"] is True


def test_analyze_passes_utility(api):
    body = "Your order {{1}} has shipped and arrives on {{2}}."
    result = api.post(ANALYZE, {"body": body}, format="json").json()
    assert (result["reads_as_marketing"], result["findings"]) == (False, [])


def test_analyze_empty_body_is_400(api):
    response = api.post(ANALYZE, {"body": ""}, format="json")
    assert list(response.json()["error"]["fields"]) == ["body"]


def test_analyze_too_long_is_400(api):
    response = api.post(ANALYZE, {"body": "x" * 1025}, format="json")
    assert response.status_code == 400


def test_analyze_needs_key(client):
    assert client.post(ANALYZE, {"body": PROMOTION}).status_code == 401
