"""Switching the sub-account a marketer works in."""

import logging

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from campaigns.access import sub_accounts_for

from .scope import SESSION_KEY

logger = logging.getLogger(__name__)


@login_required
@require_POST
def switch_sub_account(request: HttpRequest) -> HttpResponse:
    try:
        chosen = int(request.POST.get("sub_account", ""))
    except ValueError:
        raise Http404("No sub-account chosen.") from None
    if not sub_accounts_for(request.user).filter(pk=chosen).exists():
        raise Http404(f"Sub-account {chosen} not found.")
    request.session[SESSION_KEY] = chosen
    logger.info("user %s switched to sub-account %s", request.user.pk, chosen)

    # Object pages belong to one sub-account, so the switch lands on the dashboard
    # unless the form names a list page to return to.
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        return redirect(next_url)
    return redirect("campaigns:campaign_list")
