from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import RedirectView

from .views import accounts, campaigns, compose, contacts, templates

app_name = "campaigns"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="campaigns:campaign_list"), name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("sub-account/", accounts.switch_sub_account, name="switch_sub_account"),
    path("contacts/", contacts.contact_list, name="contact_list"),
    path("contacts/import/", contacts.contact_import, name="contact_import"),
    path("contacts/import/rejected.csv", contacts.rejected_rows_csv, name="rejected_rows_csv"),
    path(
        "contacts/<int:pk>/consent/<str:channel>/",
        contacts.toggle_consent,
        name="toggle_consent",
    ),
    path("templates/", templates.template_list, name="template_list"),
    path("templates/<int:pk>/", templates.template_detail, name="template_detail"),
    path("campaigns/", campaigns.campaign_list, name="campaign_list"),
    path("campaigns/new/", compose.campaign_compose, name="campaign_new"),
    path("campaigns/new/live/", compose.compose_live, name="compose_live"),
    path("campaigns/new/variables/", compose.compose_variables, name="compose_variables"),
    path("campaigns/<int:pk>/", campaigns.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/edit/", compose.campaign_compose, name="campaign_edit"),
    path("campaigns/<int:pk>/review/", compose.campaign_review, name="campaign_review"),
    path("campaigns/<int:pk>/launch/", compose.campaign_launch, name="campaign_launch"),
    path("campaigns/<int:pk>/progress/", campaigns.campaign_progress, name="campaign_progress"),
    path("campaigns/<int:pk>/spend/", campaigns.campaign_spend, name="campaign_spend"),
    path("campaigns/<int:pk>/log/", campaigns.delivery_log, name="delivery_log"),
    path("campaigns/<int:pk>/log.csv", campaigns.delivery_log_csv, name="delivery_log_csv"),
    # Last: pause, resume and cancel; the view rejects any other action with 404.
    path(
        "campaigns/<int:pk>/<str:action>/",
        campaigns.campaign_control,
        name="campaign_control",
    ),
]
