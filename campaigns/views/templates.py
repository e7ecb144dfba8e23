"""WhatsApp templates: list, detail with a preview, and the marketing-phrase rewriter."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from campaigns import rewriter
from campaigns.forms import TemplateAnalysisForm
from campaigns.models import Template

from .scope import HtmxHttpRequest, current_sub_account, scoped_object


@login_required
def template_list(request: HttpRequest) -> HttpResponse:
    templates = Template.objects.filter(sub_account=current_sub_account(request))
    return render(request, "campaigns/templates/list.html", {"templates": templates})


@login_required
def template_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    template = scoped_object(request, Template.objects.all(), pk=pk)
    form = TemplateAnalysisForm(request.POST or None, initial={"body": template.body})
    body = form.cleaned_data["body"] if form.is_bound and form.is_valid() else template.body
    context = {"template": template, "form": form, "analysis": rewriter.analyze(body)}
    if request.htmx:
        return render(request, "campaigns/templates/_analysis.html", context)
    return render(request, "campaigns/templates/detail.html", context)
