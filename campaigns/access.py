"""Which agencies and sub-accounts a user may see. Every view, admin page and API call
scopes its querysets through these functions."""

from typing import Any

from django.db.models import Q, QuerySet

from .models import Agency, SubAccount

# request.user: a user model instance or AnonymousUser.
User = Any


def agencies_for(user: User) -> QuerySet[Agency]:
    if not user.is_authenticated:
        return Agency.objects.none()
    if getattr(user, "is_superuser", False):
        return Agency.objects.all()
    return Agency.objects.filter(staff=user)


def sub_accounts_for(user: User) -> QuerySet[SubAccount]:
    """Sub-accounts of the user's agencies (staff) plus those the user markets for."""
    if not user.is_authenticated:
        return SubAccount.objects.none()
    if getattr(user, "is_superuser", False):
        return SubAccount.objects.all()
    return SubAccount.objects.filter(Q(agency__staff=user) | Q(marketers=user)).distinct()
