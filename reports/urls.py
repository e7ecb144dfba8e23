from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("agencies/", views.agencies, name="agencies"),
    path("<str:scope>/<int:pk>/", views.report, name="report"),
    path("<str:scope>/<int:pk>/recipients/", views.recipients, name="recipients"),
]
