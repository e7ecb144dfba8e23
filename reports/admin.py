"""Admin for rate cards, with a CSV upload that runs the rate import."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from campaigns.access import agencies_for
from campaigns.admin_scoping import AgencyScopedAdmin
from campaigns.models import Agency

from .models import SmsRate, WhatsAppRate
from .rate_import import RateFileError, import_rates


class RateFileForm(forms.Form):
    agency = forms.ModelChoiceField(queryset=Agency.objects.none())
    file = forms.FileField(help_text="CSV with columns channel, category, country, price")

    def __init__(self, *args: object, user: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["agency"].queryset = agencies_for(user)  # type: ignore[attr-defined,arg-type]


class RateAdmin(AgencyScopedAdmin):
    agency_path = "agency"
    list_display = ["agency", "price"]
    list_filter = ["agency"]
    change_list_template = "admin/reports/rate_change_list.html"

    def get_urls(self) -> list[URLPattern]:
        name = f"reports_{self.model._meta.model_name}_import"
        extra = [path("import/", self.admin_site.admin_view(self.import_view), name=name)]
        return extra + super().get_urls()

    def import_view(self, request: HttpRequest) -> HttpResponse:
        form = RateFileForm(request.POST or None, request.FILES or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                text = form.cleaned_data["file"].read().decode("utf-8-sig")
                result = import_rates(form.cleaned_data["agency"], text)
            except (RateFileError, UnicodeDecodeError) as error:
                form.add_error("file", str(error))
            else:
                self._report(request, result)
                info = self.model._meta.app_label, self.model._meta.model_name
                return HttpResponseRedirect(reverse("admin:{}_{}_changelist".format(*info)))
        context = {**self.admin_site.each_context(request), "form": form, "title": "Import rates"}
        return TemplateResponse(request, "admin/reports/rate_import.html", context)

    def _report(self, request: HttpRequest, result: object) -> None:
        created, updated = result.created, result.updated  # type: ignore[attr-defined]
        messages.success(request, f"Rates created: {created}, updated: {updated}.")
        for row in result.rejected:  # type: ignore[attr-defined]
            messages.error(request, f"Line {row.line}: {row.reason}")


@admin.register(WhatsAppRate)
class WhatsAppRateAdmin(RateAdmin):
    list_display = ["agency", "category", "calling_code", "price"]
    list_filter = ["agency", "category"]


@admin.register(SmsRate)
class SmsRateAdmin(RateAdmin):
    list_display = ["agency", "country", "price"]
    search_fields = ["country"]
