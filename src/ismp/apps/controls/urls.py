"""Web pages of controls, included in the "web" namespace by ismp.apps.web.urls."""

from django.urls import URLPattern, path

from ismp.apps.controls import views

urlpatterns: list[URLPattern] = [
    path("controls/", views.gaps, name="controls-gaps"),
    path("controls/baseline/", views.baseline, name="controls-baseline"),
    path("controls/exceptions/", views.exception_list, name="controls-exceptions"),
    path("controls/exceptions/<int:pk>/decide/", views.exception_decide, name="controls-exception-decide"),
    path("systems/<int:pk>/controls/", views.system_controls, name="system-controls"),
    path("systems/<int:pk>/controls/set/", views.control_set, name="system-control-set"),
    path("systems/<int:pk>/controls/gate/", views.gate_check, name="system-gate-check"),
    path("systems/<int:pk>/controls/exception/", views.exception_request, name="system-gate-exception"),
]
