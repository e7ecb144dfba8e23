"""The fallback policy table: the class of every provider error code, and per-sub-account
overrides."""

import logging

import pytest

from messaging.models import HaltChoice, PolicyOverride
from messaging.policy import SMS_RULES, WHATSAPP_RULES, Action, Halt, Learn, classify
from tests.factories import SubAccountFactory

FB, R, T = Action.FALLBACK, Action.RETRY, Action.TERMINAL
NO, TEMPLATE, CAMPAIGN = Halt.NONE, Halt.TEMPLATE, Halt.CAMPAIGN

# Every code of the WhatsApp Cloud API error table in the provider notes, with its class:
# (codes, action, action when retries run out, halt).
WHATSAPP_TABLE = [
    ((131049, 131026, 131050, 130472, 131047, 130497, 131048), FB, FB, NO),
    ((131064, 132015, 132016, 132001, 132007), FB, FB, TEMPLATE),
    ((131056, 131000), R, FB, NO),
    ((130429, 4, 80007, 1, 2, 131016, 133004, 131057, 135000), R, T, NO),
    ((0, 3, 10, 190, 200, 250, 299, 131005), T, T, CAMPAIGN),
    ((100, 131008, 131009, 132000, 132005, 132012), T, T, NO),
    ((133010, 131045, 33, 131037, 368, 131031, 131042, 134011), T, T, CAMPAIGN),
    ((130403, 131021, 131030, 131051, 131053), T, T, NO),
]

# Every code of Twilio's error table in the provider notes: P and D are terminal for the
# recipient, T retries, A is terminal and pauses the campaign.
SMS_TABLE = [
    ((21211, 21610, 21612, 21614, 21635, 21617, 30004, 30005, 30006), T, T, NO),
    ((20429, 14107, 21611, 30001, 30003, 30008, 30036, 30410, 63017), R, T, NO),
    ((21408, 30002, 30007, 30034, 63038), T, T, CAMPAIGN),
]

LEARNED = [
    ("whatsapp", 131026, Learn.WHATSAPP_UNREACHABLE),
    ("whatsapp", 131050, Learn.WHATSAPP_OPT_OUT),
    ("sms", 21610, Learn.SMS_OPT_OUT),
    ("sms", 21614, Learn.LANDLINE),
    ("sms", 21635, Learn.LANDLINE),
    ("sms", 30006, Learn.LANDLINE),
]


def expand(channel, table):
    for codes, action, exhausted, halt in table:
        for code in codes:
            yield pytest.param(channel, str(code), action, exhausted, halt, id=f"{channel}-{code}")


ALL_CODES = [*expand("whatsapp", WHATSAPP_TABLE), *expand("sms", SMS_TABLE)]


@pytest.mark.parametrize(("channel", "code", "action", "exhausted", "halt"), ALL_CODES)
def test_code_class(channel, code, action, exhausted, halt):
    rule = classify(channel, code)

    assert rule.action == action
    assert rule.halt == halt
    if action == Action.RETRY:
        assert rule.max_retries >= 1
        assert rule.exhausted == exhausted


@pytest.mark.parametrize(("channel", "code", "learn"), LEARNED)
def test_code_teaches_contact_fact(channel, code, learn):
    assert classify(channel, str(code)).learn == learn


def test_table_has_no_unlisted_codes():
    listed = {(values[0], values[1]) for values in (param.values for param in ALL_CODES)}
    whatsapp_extra = {code for code in WHATSAPP_RULES if ("whatsapp", code) not in listed}
    sms_extra = {code for code in SMS_RULES if ("sms", code) not in listed}

    # 200-299 are one permission range; Twilio's 5xx and credential codes come from the client.
    assert whatsapp_extra <= {str(code) for code in range(200, 300)}
    assert sms_extra == {"20003", "20500", "20503"}


def test_pair_rate_retries_then_falls_back():
    rule = classify("whatsapp", "131056")
    assert rule.exhausted == Action.FALLBACK


def test_135000_retries_once():
    assert classify("whatsapp", "135000").max_retries == 1


def test_30003_retries_at_most_twice():
    assert classify("sms", "30003").max_retries == 2


def test_unknown_code_retries_then_stops(caplog):
    with caplog.at_level(logging.WARNING, logger="messaging.policy"):
        rule = classify("whatsapp", "999999")

    assert rule.action == Action.RETRY
    assert rule.exhausted == Action.TERMINAL
    assert 1 <= rule.max_retries <= 3
    assert "unknown whatsapp error code 999999" in caplog.text


def test_bare_server_error_retries():
    rule = classify("sms", "http_502")
    assert rule.action == Action.RETRY
    assert rule.exhausted == Action.TERMINAL


@pytest.fixture
def sub_account():
    return SubAccountFactory()


@pytest.mark.django_db
def test_override_changes_class_for_one_sub_account(sub_account):
    other = SubAccountFactory()
    PolicyOverride.objects.create(
        sub_account=sub_account, channel="whatsapp", code="131047", action="terminal"
    )

    assert classify("whatsapp", "131047", sub_account).action == Action.TERMINAL
    assert classify("whatsapp", "131047", sub_account.pk).action == Action.TERMINAL
    assert classify("whatsapp", "131047", other.pk).action == Action.FALLBACK
    assert classify("whatsapp", "131047").action == Action.FALLBACK


@pytest.mark.django_db
def test_override_keeps_table_halt_by_default(sub_account):
    PolicyOverride.objects.create(
        sub_account=sub_account, channel="whatsapp", code="132015", action="terminal"
    )

    assert classify("whatsapp", "132015", sub_account).halt == Halt.TEMPLATE


@pytest.mark.django_db
def test_override_sets_halt(sub_account):
    PolicyOverride.objects.create(
        sub_account=sub_account,
        channel="sms",
        code="30007",
        action="terminal",
        halt=HaltChoice.NONE,
    )

    assert classify("sms", "30007", sub_account).halt == Halt.NONE


@pytest.mark.django_db
def test_override_to_retry_ends_as_table_class(sub_account):
    PolicyOverride.objects.create(
        sub_account=sub_account, channel="whatsapp", code="131026", action="retry"
    )
    rule = classify("whatsapp", "131026", sub_account)

    assert rule.action == Action.RETRY
    assert rule.max_retries >= 1
    assert rule.exhausted == Action.FALLBACK
    assert "overridden" in rule.description


@pytest.mark.django_db
def test_override_rejects_non_numeric_code():
    from django.core.exceptions import ValidationError

    override = PolicyOverride(
        sub_account=SubAccountFactory(), channel="sms", code="thirty", action="retry"
    )
    with pytest.raises(ValidationError, match="numeric error code"):
        override.full_clean()
