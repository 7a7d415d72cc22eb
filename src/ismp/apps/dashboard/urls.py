"""Web pages of dashboard, included in the "web" namespace by ismp.apps.web.urls (the home page "/" is
``ismp.apps.web.views.dashboard``)."""

from django.urls import URLPattern, path

from ismp.apps.dashboard import views

urlpatterns: list[URLPattern] = [
    path("dashboard/report/", views.report, name="dashboard-report"),
]
