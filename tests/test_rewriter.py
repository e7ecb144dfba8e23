"""The template rewriter: marketing phrases found, reasons given, utility rewrite proposed."""

import pytest

from campaigns.rewriter import analyze


@pytest.mark.parametrize(
    ("body", "kind", "phrase"),
    [
        ("Our spring sale starts now.", "offer", "sale"),
        ("Use code SPRING for a free gift.", "offer", "free"),
        ("Get 20% off all shoes.", "discount", "20% off"),
        ("Members get a discount on shipping.", "discount", "discount"),
        ("Hurry, stocks are low.", "urgency", "Hurry"),
        ("Last chance to book.", "urgency", "Last chance"),
        ("Renew now to keep your perks.", "renewal", "Renew now"),
        ("You left something behind in your basket.", "cart", "basket"),
        ("Hi there! Your parcel is here.", "greeting", "Hi there! "),
    ],
)
def test_finds_marketing_phrase(body, kind, phrase):
    findings = [(finding.kind, finding.phrase) for finding in analyze(body).findings]
    assert (kind, phrase) in findings


def test_each_finding_has_reason():
    analysis = analyze("Hurry: 50% off ends today!")
    assert analysis.findings
    assert all(finding.reason for finding in analysis.findings)


def test_mostly_variables_body():
    analysis = analyze("{{1}} {{2}} {{3}} today")
    assert analysis.mostly_variables
    assert analysis.reads_as_marketing


def test_utility_body_passes():
    analysis = analyze("Your order {{1}} has shipped and arrives on {{2}}.")
    assert not analysis.reads_as_marketing


def test_rewrite_drops_promotion_keeps_facts():
    analysis = analyze(
        "Hello {{1}}! Your order {{2}} has shipped. Hurry, get 10% off your next order!"
    )
    assert analysis.rewrite == "{{1}}, your order {{2}} has shipped."


def test_rewrite_keeps_every_variable():
    rewrite = analyze("Hi {{1}}, our sale ends {{2}}: 20% off everything.").rewrite
    assert "{{1}}" in rewrite
    assert "{{2}}" in rewrite


def test_rewrite_reads_as_utility():
    body = "Your subscription {{1}} renews on {{2}}. Renew now to keep your perks."
    rewrite = analyze(body).rewrite
    assert rewrite == "Your subscription {{1}} renews on {{2}}."
    assert not analyze(rewrite).reads_as_marketing


def test_segments_cover_body_in_order():
    body = "Hi {{1}}, big sale today only."
    segments = analyze(body).segments()
    assert "".join(text for text, _ in segments) == body
    assert [finding.kind for _, finding in segments if finding] == ["greeting", "offer", "urgency"]
