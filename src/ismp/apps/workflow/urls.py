"""Web pages of workflow, included in the "web" namespace by ismp.apps.web.urls."""

from django.urls import URLPattern, path

from ismp.apps.workflow import drill_views, views

urlpatterns: list[URLPattern] = [
    # work items (対応状況): list, export, one item with its action forms, the CSIRT's settings
    path("workitems/", views.workitem_list, name="workitem-list"),
    path("workitems/export/", views.workitem_export, name="workitem-export"),
    path("workitems/settings/", views.workitem_settings, name="workitem-settings"),
    path("workitems/<int:pk>/", views.workitem_detail, name="workitem-detail"),
    path("workitems/<int:pk>/act/", views.workitem_act, name="workitem-act"),
    path("workitems/<int:pk>/urgency/", views.workitem_urgency, name="workitem-urgency"),
    path("systems/<int:pk>/workitems/", views.system_workitems, name="system-workitems"),
    # the emergency response board (緊急対応ボード)
    path("board/", views.board_index, name="board-index"),
    path("board/<str:vuln_id>/", views.board_detail, name="board-detail"),
    # response drills (対応訓練)
    path("drills/", drill_views.drill_list, name="drill-list"),
    path("drills/<int:pk>/", drill_views.drill_detail, name="drill-detail"),
    path("drills/<int:pk>/end/", drill_views.drill_end, name="drill-end"),
]
