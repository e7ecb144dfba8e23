"""Agency scoping for Django admin: staff of one agency never see another agency's rows.

Use it on every ModelAdmin whose model belongs to an agency::

    @admin.register(RateCard)
    class RateCardAdmin(AgencyScopedAdmin):
        agency_path = "agency"            # the lookup from RateCard to its Agency

    @admin.register(PolicyOverride)
    class PolicyOverrideAdmin(AgencyScopedAdmin):
        agency_path = "sub_account__agency"

and ``ScopedTabularInline`` / ``ScopedStackedInline`` for inlines, which must set their
own ``agency_path`` (an inline without one shows staff nothing). ``agency_path`` is the
ORM lookup that reaches an Agency; the Agency admin itself uses "pk". A model with no
agency (a global row) sets ``agency_path = None``, so only superusers see it. Tables
with millions of rows under a campaign also set ``campaign_path`` (see campaign_ids_for).

Add the model to SCOPED_MODELS in tests/test_admin_scoping.py and a row of it to
tests/admin_world.py; a test fails until every registered model is covered.

What the mixin scopes, all through campaigns.access.agencies_for (superusers see all):

- the changelist, search results, actions and the raw-id and autocomplete popups,
  because they all start from get_queryset;
- change, delete and history pages, which return 404 for a row outside the agencies,
  the same response as for a row that does not exist, so ids leak nothing;
- foreign-key and many-to-many choices in forms and inlines, through the admin
  registered for the related model. User choices list only people already linked to the
  staff member's agencies;
- related list filters, which list only values present in the scoped rows.
"""

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Model, Q, QuerySet
from django.forms import ModelChoiceField, ModelMultipleChoiceField
from django.http import Http404, HttpRequest

from .access import agencies_for
from .models import Campaign


def scope_to_agencies(
    queryset: QuerySet[Any],
    request: HttpRequest,
    agency_path: str | None,
    campaign_path: str | None = None,
) -> QuerySet[Any]:
    """Filter queryset to rows of the requesting user's agencies (all rows for superusers)."""
    if request.user.is_superuser:
        return queryset
    if agency_path is None:
        return queryset.none()
    if campaign_path is not None:
        return queryset.filter(**{f"{campaign_path}__in": campaign_ids_for(request)})
    return queryset.filter(**{f"{agency_path}__in": agencies_for(request.user)})


def campaign_ids_for(request: HttpRequest) -> list[int]:
    """Return the ids of the campaigns of the requester's agencies, once per request.

    Tables under a campaign (recipients, attempts, events) hold millions of rows. With
    literal campaign ids PostgreSQL estimates from its statistics how many rows an agency
    has. So an agency with a hundred recipients among a million is read through the
    campaign index, not by walking the whole table newest first.
    """
    cached = getattr(request, "_agency_campaign_ids", None)
    if cached is None:
        campaigns = Campaign.objects.filter(sub_account__agency__in=agencies_for(request.user))
        cached = list(campaigns.values_list("pk", flat=True))
        # Only read-only admins use these ids, so a campaign added later in the same request
        # cannot be missing from them.
        request._agency_campaign_ids = cached  # type: ignore[attr-defined]
    return cached


def users_linked_to(request: HttpRequest) -> QuerySet[Any]:
    """Users who are staff of the requester's agencies or marketers of their sub-accounts."""
    users = get_user_model().objects.all()
    if request.user.is_superuser:
        return users
    agencies = agencies_for(request.user)
    linked = Q(staff_of_agencies__in=agencies) | Q(marketer_of_sub_accounts__agency__in=agencies)
    return users.filter(pk__in=users.filter(linked).values("pk"))


class _ScopedChoices:
    """Foreign-key and many-to-many choices limited to the requester's agencies."""

    admin_site: admin.AdminSite

    def scoped_choices(self, model: type[Model], request: HttpRequest) -> QuerySet[Any] | None:
        if model is get_user_model():
            return users_linked_to(request)
        related_admin = self.admin_site._registry.get(model)
        if isinstance(related_admin, AgencyScopedAdmin):
            return related_admin.get_queryset(request)
        # A model with no scoped admin has no agency to check; superusers may still pick it.
        return None if request.user.is_superuser else model._default_manager.none()

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        choices = self.scoped_choices(db_field.related_model, request)
        if choices is not None:
            kwargs["queryset"] = choices
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def formfield_for_manytomany(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> ModelMultipleChoiceField | None:
        choices = self.scoped_choices(db_field.related_model, request)
        if choices is not None:
            kwargs["queryset"] = choices
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]


class AgencyScopedAdmin(_ScopedChoices, admin.ModelAdmin):
    """A ModelAdmin that shows each staff member only the rows of their own agency."""

    agency_path: str | None = "sub_account__agency"
    # The lookup to the row's Campaign, for tables with millions of rows under a campaign;
    # see campaign_ids_for. agency_path must still be set, for documentation and checks.
    campaign_path: str | None = None

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        return scope_to_agencies(queryset, request, self.agency_path, self.campaign_path)

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None):
        found = super().get_object(request, object_id, from_field)
        if found is None:
            # Django would redirect with "doesn't exist"; a 404 reads the same for rows of
            # another agency and rows that never existed.
            raise Http404(f"No {self.opts.verbose_name} with id {object_id!r} in your agency.")
        return found

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        return [
            _only_present_values(self.model, entry) for entry in super().get_list_filter(request)
        ]


class ScopedInline(_ScopedChoices, admin.options.InlineModelAdmin):
    """An inline whose rows and choices are scoped like its parent admin's."""

    agency_path: str | None = None

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # The formset already filters by the parent object, which is scoped; this also
        # covers an inline declared without a parent filter.
        return scope_to_agencies(super().get_queryset(request), request, self.agency_path)


class ScopedTabularInline(ScopedInline, admin.TabularInline):
    pass


class ScopedStackedInline(ScopedInline, admin.StackedInline):
    pass


def _only_present_values(model: type[Model], entry: Any) -> Any:
    # Django's related filter lists every row of the related table, so staff would see the
    # names of other agencies; RelatedOnlyFieldListFilter lists values of scoped rows only.
    if not isinstance(entry, str):
        return entry
    field = _last_field(model, entry)
    if field is not None and field.is_relation:
        return (entry, admin.RelatedOnlyFieldListFilter)
    return entry


def _last_field(model: type[Model], path: str) -> Any:
    field = None
    for name in path.split("__"):
        field = model._meta.get_field(name)
        if field.is_relation and field.related_model is not None:
            model = field.related_model
    return field
