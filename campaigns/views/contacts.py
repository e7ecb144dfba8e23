"""Contacts: list with search and filters, CSV import with a per-row report, consent toggles."""

import io
import logging

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from campaigns.contact_import import ImportFileError, import_contacts
from campaigns.forms import ContactFilterForm, ContactImportForm
from campaigns.models import Contact, SubAccount

from .scope import HtmxHttpRequest, current_sub_account, scoped_object

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
CHANNELS = ("whatsapp", "sms")
# The rejected rows of the last import, kept in the session until the next import.
REJECTED_SESSION_KEY = "rejected_rows_csv"


def tags_of(sub_account: SubAccount) -> list[str]:
    tags: set[str] = set()
    for contact_tags in Contact.objects.filter(sub_account=sub_account).values_list(
        "tags", flat=True
    ):
        tags.update(contact_tags or [])
    return sorted(tags)


def countries_of(sub_account: SubAccount) -> list[str]:
    countries = Contact.objects.filter(sub_account=sub_account).exclude(country="")
    return sorted(set(countries.values_list("country", flat=True)))


def filter_contacts(queryset: QuerySet[Contact], data: dict) -> QuerySet[Contact]:
    if data.get("q"):
        term = data["q"].strip()
        queryset = queryset.filter(
            Q(phone__icontains=term)
            | Q(first_name__icontains=term)
            | Q(last_name__icontains=term)
            | Q(email__icontains=term)
        )
    if data.get("tag"):
        # The JSON text of the list contains each tag in double quotes on both databases.
        queryset = queryset.filter(tags__icontains=f'"{data["tag"]}"')
    if data.get("country"):
        queryset = queryset.filter(country=data["country"])
    for channel in CHANNELS:
        if data.get(channel):
            opted_out = data[channel] == "out"
            queryset = queryset.filter(**{f"{channel}_opt_out_at__isnull": not opted_out})
    return queryset


@login_required
def contact_list(request: HtmxHttpRequest) -> HttpResponse:
    sub_account = current_sub_account(request)
    form = ContactFilterForm(
        request.GET or None, tags=tags_of(sub_account), countries=countries_of(sub_account)
    )
    contacts = Contact.objects.filter(sub_account=sub_account)
    if form.is_bound and form.is_valid():
        contacts = filter_contacts(contacts, form.cleaned_data)
    page = Paginator(contacts.order_by("phone"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    template = "campaigns/contacts/_table.html" if request.htmx else "campaigns/contacts/list.html"
    return render(request, template, context)


@login_required
@require_POST
def toggle_consent(request: HtmxHttpRequest, pk: int, channel: str) -> HttpResponse:
    if channel not in CHANNELS:
        raise Http404(f"Unknown channel {channel!r}; use whatsapp or sms.")
    contact = scoped_object(request, Contact.objects.all(), pk=pk)
    if getattr(contact, f"{channel}_opt_out_at"):
        contact.opt_in(channel)
    else:
        contact.opt_out(channel, source=f"marketer {request.user.pk}")
    contact.save()
    logger.info(
        "contact %s %s consent set to %s by user %s",
        contact.pk,
        channel,
        "opted out" if getattr(contact, f"{channel}_opt_out_at") else "opted in",
        request.user.pk,
    )
    if request.htmx:
        return render(request, "campaigns/contacts/_row.html", {"contact": contact})
    return redirect("campaigns:contact_list")


@login_required
def contact_import(request: HttpRequest) -> HttpResponse:
    sub_account = current_sub_account(request)
    form = ContactImportForm(request.POST or None, request.FILES or None)
    if request.method != "POST" or not form.is_valid():
        return render(request, "campaigns/contacts/import.html", {"form": form})

    try:
        result = import_contacts(
            sub_account,
            form.cleaned_data["file"],
            default_region=form.cleaned_data["default_region"] or None,
        )
    except ImportFileError as error:
        form.add_error("file", f"Nothing was imported: {error}.")
        return render(request, "campaigns/contacts/import.html", {"form": form})

    rejected_csv = io.StringIO()
    result.write_rejected_csv(rejected_csv)
    if result.rejected or result.duplicates:
        request.session[REJECTED_SESSION_KEY] = rejected_csv.getvalue()
    else:
        request.session.pop(REJECTED_SESSION_KEY, None)
    return render(request, "campaigns/contacts/import_result.html", {"result": result})


@login_required
def rejected_rows_csv(request: HttpRequest) -> HttpResponse:
    current_sub_account(request)
    text = request.session.get(REJECTED_SESSION_KEY)
    if text is None:
        raise Http404("No rejected rows: the last import in this session took every row.")
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="rejected-rows.csv"'
    return response
