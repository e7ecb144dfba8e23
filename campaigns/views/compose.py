"""Compose a campaign, review who gets what, and launch it."""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from campaigns import sms_preview, validation
from campaigns.audience import RouteCounts, contacts_for, count_routes, us_marketing_affected
from campaigns.forms import CampaignForm
from campaigns.launch import LaunchError, start_launch
from campaigns.models import Campaign, CampaignStatus, Contact, SubAccount
from campaigns.models.templates import VARIABLE
from campaigns.phone_list import unknown_numbers
from messaging.content import sms_text, template_parameters
from reports import billing

from .contacts import tags_of
from .scope import current_sub_account, scoped_object
from .spend import spend_lines
from .timing import schedule_words

logger = logging.getLogger(__name__)


def whatsapp_preview(campaign: Campaign, contact: Contact | None) -> str:
    """Return the template body with its variables filled as `contact` would receive it."""
    template = campaign.template
    names = list(dict.fromkeys(template.variables))
    values = template_parameters(campaign, contact) if contact else []
    filled = dict(zip(names, values, strict=False))
    return VARIABLE.sub(lambda match: filled.get(match.group(1), match.group(0)), template.body)


def _form(request: HttpRequest, sub_account: SubAccount, campaign: Campaign | None = None):
    data = request.POST if request.method == "POST" else None
    files = request.FILES if request.method == "POST" else None
    return CampaignForm(
        data, files, instance=campaign, sub_account=sub_account, tags=tags_of(sub_account)
    )


def _draft(form: CampaignForm, sub_account: SubAccount) -> Campaign | None:
    """Build an unsaved campaign from whatever the form contains so far, for live previews."""
    template = form.selected_template()
    if template is None:
        return None
    form.is_valid()
    cleaned = getattr(form, "cleaned_data", {})
    audience_tags = cleaned.get("tags") or [] if cleaned.get("audience") == "tags" else []
    return Campaign(
        sub_account=sub_account,
        template=template,
        variables=cleaned.get("variables", []),
        audience_tags=audience_tags,
        audience_phones=cleaned.get("audience_phones", []),
        fallback_enabled=bool(cleaned.get("fallback_enabled")),
        fallback_text=form.data.get("fallback_text", ""),
        direct_sms_for_us_marketing=bool(cleaned.get("direct_sms_for_us_marketing")),
    )


def _live_context(form: CampaignForm, sub_account: SubAccount) -> dict[str, object]:
    campaign = _draft(form, sub_account)
    raw_text = form.data.get("fallback_text", "") if form.is_bound else ""
    context: dict[str, object] = {"sms": sms_preview.preview(raw_text), "campaign": campaign}
    if campaign is None:
        return context
    context["phone_list"] = _phone_list_report(form, sub_account)
    if _waiting_for_list(form):
        # An empty phone list means "no narrowing" to the launch, so a list that is picked
        # but not read yet must count nobody rather than every contact.
        context.update(counts=RouteCounts(), us_marketing=0, sample=None)
        context["whatsapp_text"] = whatsapp_preview(campaign, None)
        return context
    audience = contacts_for(campaign)
    sample = audience[0] if audience else None
    context.update(
        counts=count_routes(campaign),
        us_marketing=us_marketing_affected(campaign),
        sample=sample,
        whatsapp_text=whatsapp_preview(campaign, sample),
    )
    if sample is not None and raw_text:
        # Merge fields change the length, so the counter measures the sample's own text.
        context["sms"] = sms_preview.preview(sms_text(campaign, sample))
    return context


def _waiting_for_list(form: CampaignForm) -> bool:
    audience = form.data.get("audience") if form.is_bound else form.initial.get("audience")
    return audience == "list" and not form.audience_numbers


def _phone_list_report(form: CampaignForm, sub_account: SubAccount) -> dict[str, object] | None:
    """Return what the uploaded list contains: numbers, unknown numbers, invalid rows."""
    if not form.audience_numbers:
        return None
    result = form.phone_list_result
    return {
        "numbers": len(form.audience_numbers),
        "unknown": unknown_numbers(sub_account, form.audience_numbers),
        "invalid_rows": result.invalid_rows if result else [],
        "duplicates": result.duplicates if result else 0,
    }


@login_required
def campaign_compose(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    sub_account = current_sub_account(request)
    campaign = None
    if pk is not None:
        campaign = scoped_object(request, Campaign.objects.all(), pk=pk)
        if campaign.status != CampaignStatus.DRAFT:
            messages.error(request, f"{campaign} is {campaign.status}; only drafts can be edited.")
            return redirect("campaigns:campaign_detail", pk=campaign.pk)
    form = _form(request, sub_account, campaign)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        if saved.created_by_id is None:
            saved.created_by = request.user  # type: ignore[assignment]
        saved.save()
        logger.info("campaign %s saved as draft by user %s", saved.pk, request.user.pk)
        return redirect("campaigns:campaign_review", pk=saved.pk)

    context = {"form": form, "campaign": campaign, **_live_context(form, sub_account)}
    return render(request, "campaigns/compose/compose.html", context)


@login_required
@require_POST
def compose_live(request: HttpRequest) -> HttpResponse:
    """htmx: the audience count, previews and SMS counter for the form as typed so far."""
    sub_account = current_sub_account(request)
    form = _form(request, sub_account)
    return render(
        request, "campaigns/compose/_live.html", {"form": form, **_live_context(form, sub_account)}
    )


@login_required
def compose_variables(request: HttpRequest) -> HttpResponse:
    """htmx: one source field per variable of the template picked in the form."""
    sub_account = current_sub_account(request)
    form = CampaignForm(
        initial={"template": request.GET.get("template")},
        sub_account=sub_account,
        tags=tags_of(sub_account),
    )
    response = render(request, "campaigns/compose/_variables.html", {"form": form})
    # The form refreshes its previews on this event, once the new fields are in place.
    return trigger_client_event(response, "variables-loaded", after="settle")


@login_required
def campaign_review(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = scoped_object(request, Campaign.objects.select_related("template"), pk=pk)
    if campaign.status != CampaignStatus.DRAFT:
        return redirect("campaigns:campaign_detail", pk=campaign.pk)
    audience = contacts_for(campaign)
    sample = audience[0] if audience else None
    sample_sms = sms_text(campaign, sample) if sample else campaign.fallback_text
    context = {
        "campaign": campaign,
        "counts": count_routes(campaign),
        "us_marketing": us_marketing_affected(campaign),
        "sample": sample,
        "whatsapp_text": whatsapp_preview(campaign, sample),
        "sms": sms_preview.preview(sample_sms),
        "template_sendable": campaign.template.sendable,
        # The launch view runs the same checks; listing them here replaces the button.
        "launch_errors": validation.launch_errors(campaign),
        "estimate_lines": spend_lines(billing.estimate(campaign)),
        "schedule": schedule_words(campaign),
        "phone_list": _stored_list_report(campaign),
    }
    return render(request, "campaigns/compose/review.html", context)


def _stored_list_report(campaign: Campaign) -> dict[str, object] | None:
    if not campaign.audience_phones:
        return None
    numbers = campaign.audience_phones
    return {"numbers": len(numbers), "unknown": unknown_numbers(campaign.sub_account, numbers)}


@login_required
@require_POST
def campaign_launch(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = scoped_object(request, Campaign.objects.select_related("template"), pk=pk)
    try:
        start_launch(campaign)
    except LaunchError as error:
        messages.error(request, str(error))
        return redirect("campaigns:campaign_review", pk=campaign.pk)
    logger.info("campaign %s launched by user %s", campaign.pk, request.user.pk)
    messages.success(request, f"{campaign} is launching.")
    return redirect("campaigns:campaign_detail", pk=campaign.pk)
