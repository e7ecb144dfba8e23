"""The sub-account a marketer is working in, and lookups limited to the user's sub-accounts.

Every object a view loads by id goes through `scoped_object`, so an id from another
sub-account returns 404 whatever the URL contains.
"""

from typing import TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django_htmx.middleware import HtmxDetails

from campaigns.access import sub_accounts_for
from campaigns.models import SubAccount

SESSION_KEY = "sub_account_id"


class HtmxHttpRequest(HttpRequest):
    """A request after django-htmx's middleware, for type checking."""

    htmx: HtmxDetails


M = TypeVar("M", bound=Model)


def current_sub_account(request: HttpRequest) -> SubAccount:
    """Return the sub-account picked in the switcher, or the user's first one.

    Raises Http404 when the user markets for no sub-account at all.
    """
    allowed = sub_accounts_for(request.user).select_related("agency")
    chosen = request.session.get(SESSION_KEY)
    if chosen is not None:
        sub_account = allowed.filter(pk=chosen).first()
        if sub_account is not None:
            return sub_account
    sub_account = allowed.first()
    if sub_account is None:
        raise Http404("Your user has no sub-account; ask agency staff to add you to one.")
    request.session[SESSION_KEY] = sub_account.pk
    return sub_account


def scoped_object(request: HttpRequest, queryset: QuerySet[M], **lookup: object) -> M:
    """Return the object of `queryset` matching `lookup` in the current sub-account, or 404."""
    sub_account = current_sub_account(request)
    return get_object_or_404(queryset, sub_account=sub_account, **lookup)


def current_sub_account_context(request: HttpRequest) -> dict[str, object]:
    """Template context: the current sub-account and the switcher's choices."""
    if not request.user.is_authenticated:
        return {}
    choices = list(sub_accounts_for(request.user).select_related("agency"))
    if not choices:
        return {"sub_account_choices": []}
    try:
        current = current_sub_account(request)
    except Http404:
        current = None
    return {"current_sub_account": current, "sub_account_choices": choices}
