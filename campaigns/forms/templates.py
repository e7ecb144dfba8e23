"""The template rewriter's input."""

from django import forms


class TemplateAnalysisForm(forms.Form):
    body = forms.CharField(
        label="Template body",
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=1024,
        help_text="WhatsApp template bodies are at most 1,024 characters; variables as {{1}}.",
    )
