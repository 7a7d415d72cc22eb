"""URLs of the web interface (namespace "web"). The REST API lives under /api/ (api_urls.py)."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from ismp.apps.audit import views as audit
from ismp.apps.findings import views as findings
from ismp.apps.inventory import views as inventory
from ismp.apps.vulns import alias_views as vuln_aliases
from ismp.apps.vulns import views as vulns
from ismp.apps.web import views

app_name = "web"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("healthz/", views.healthz, name="healthz"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="web/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("organisations/", views.organisations, name="organisations"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
    # the system inventory (システム台帳)
    path("systems/", inventory.system_list, name="system-list"),
    path("systems/new/", inventory.system_create, name="system-create"),
    path("systems/<int:pk>/", inventory.system_detail, name="system-detail"),
    path("systems/<int:pk>/edit/", inventory.system_edit, name="system-edit"),
    path("systems/<int:pk>/sbom/", inventory.system_sbom, name="system-sbom"),
    path("systems/<int:pk>/delete/", inventory.system_delete, name="system-delete"),
    path("systems/<int:pk>/components/new/", inventory.component_create, name="component-create"),
    path("systems/<int:pk>/components/<int:component_pk>/edit/", inventory.component_edit, name="component-edit"),
    path(
        "systems/<int:pk>/components/<int:component_pk>/delete/",
        inventory.component_delete,
        name="component-delete",
    ),
    path("systems/<int:pk>/cpe-suggestions/", inventory.system_cpe_suggestions, name="system-cpe-suggestions"),
    path(
        "systems/<int:pk>/components/<int:component_pk>/apply-cpe/",
        inventory.cpe_suggestion_apply,
        name="cpe-suggestion-apply",
    ),
    path("inventory/import/", inventory.inventory_import, name="inventory-import"),
    path("inventory/export/", inventory.inventory_export, name="inventory-export"),
    # vulnerability intelligence (脆弱性情報)
    path("vulns/", vulns.vuln_list, name="vuln-list"),
    path("vulns/aliases/", vuln_aliases.alias_list, name="alias-list"),
    path("vulns/aliases/<int:pk>/delete/", vuln_aliases.alias_delete, name="alias-delete"),
    path("vulns/<str:vuln_id>/", vulns.vuln_detail, name="vuln-detail"),
    path("feeds/", vulns.feed_status, name="feed-status"),
    # findings (検出事項): matches of vulnerabilities to systems, decisions, exports, VEX
    path("findings/", findings.finding_list, name="finding-list"),
    path("findings/confirm/", findings.confirmation_queue, name="finding-queue"),
    path("findings/export/", findings.finding_export, name="finding-export"),
    path("findings/<int:pk>/", findings.finding_detail, name="finding-detail"),
    path("findings/<int:pk>/not-affected/", findings.finding_not_affected, name="finding-not-affected"),
    path("findings/<int:pk>/reopen/", findings.finding_reopen, name="finding-reopen"),
    path("findings/<int:pk>/confirm/", findings.finding_confirm, name="finding-confirm"),
    path("systems/<int:pk>/vex/", findings.system_vex, name="system-vex"),
    # the audit trail (監査ログ)
    path("audit/", audit.audit_list, name="audit-list"),
    path("audit/export/", audit.audit_export, name="audit-export"),
    # work items, notifications, the control baseline and the CISO's bottom line: each app's own pages
    path("", include("ismp.apps.workflow.urls")),
    path("", include("ismp.apps.notifications.urls")),
    path("", include("ismp.apps.controls.urls")),
    path("", include("ismp.apps.dashboard.urls")),
]
