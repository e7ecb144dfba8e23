from django.urls import path

from .webhooks.twilio import twilio_inbound, twilio_status
from .webhooks.whatsapp import whatsapp_webhook

app_name = "webhooks"

urlpatterns = [
    path("whatsapp/", whatsapp_webhook, name="whatsapp"),
    path("twilio/status/<int:attempt_id>/", twilio_status, name="twilio-status"),
    path("twilio/inbound/", twilio_inbound, name="twilio-inbound"),
]
