"""The admin's "test connection" checks: one cheap authenticated read per provider."""

import logging
from dataclasses import dataclass

from campaigns.models import SubAccount
from messaging.providers import ProviderError, ProviderUnreachable, twilio, whatsapp

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str


def check_whatsapp(sub_account: SubAccount) -> CheckResult:
    """List the business account's templates, which needs a valid token and account id."""
    if not sub_account.whatsapp_business_account_id or not sub_account.whatsapp_access_token:
        return CheckResult(False, "WhatsApp not configured (business account id or token missing)")
    try:
        found = whatsapp.list_templates(
            business_account_id=sub_account.whatsapp_business_account_id,
            access_token=sub_account.whatsapp_access_token,
        )
    except ProviderError as exc:
        logger.warning("WhatsApp connection test for sub-account %s: %s", sub_account.pk, exc)
        return CheckResult(False, f"WhatsApp rejected the credentials ({exc})")
    except ProviderUnreachable as exc:
        logger.warning("WhatsApp connection test for sub-account %s: %s", sub_account.pk, exc)
        return CheckResult(False, str(exc))
    return CheckResult(True, f"WhatsApp connected, {len(found)} templates visible")


def check_twilio(sub_account: SubAccount) -> CheckResult:
    """Fetch the Twilio account, which needs a matching account SID and auth token."""
    if not sub_account.twilio_account_sid or not sub_account.twilio_auth_token:
        return CheckResult(False, "Twilio not configured (account SID or auth token missing)")
    try:
        account = twilio.fetch_account(
            account_sid=sub_account.twilio_account_sid,
            auth_token=sub_account.twilio_auth_token,
        )
    except ProviderError as exc:
        logger.warning("Twilio connection test for sub-account %s: %s", sub_account.pk, exc)
        return CheckResult(False, f"Twilio rejected the credentials ({exc})")
    except ProviderUnreachable as exc:
        logger.warning("Twilio connection test for sub-account %s: %s", sub_account.pk, exc)
        return CheckResult(False, str(exc))
    status = account.get("status", "unknown")
    return CheckResult(status == "active", f"Twilio connected, account status {status}")
