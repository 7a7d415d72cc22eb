"""Web pages of dashboard, included in the "web" namespace by ismp.apps.web.urls."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
