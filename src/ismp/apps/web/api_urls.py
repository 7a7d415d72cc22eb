from rest_framework.routers import DefaultRouter

from ismp.apps.accounts.api import OrganisationViewSet, TokenViewSet, UserViewSet
from ismp.apps.audit.api import AuditEntryViewSet
from ismp.apps.controls import api as controls_api
from ismp.apps.dashboard import api as dashboard_api
from ismp.apps.findings.api import FindingViewSet
from ismp.apps.inventory.api import ComponentViewSet, SystemViewSet
from ismp.apps.notifications import api as notifications_api
from ismp.apps.vulns.api import FeedStatusViewSet, VulnerabilityViewSet
from ismp.apps.workflow import api as workflow_api

router = DefaultRouter()
router.register("systems", SystemViewSet, basename="system")
router.register("components", ComponentViewSet, basename="component")
router.register("organisations", OrganisationViewSet, basename="organisation")
router.register("users", UserViewSet, basename="user")
router.register("tokens", TokenViewSet, basename="token")
router.register("audit", AuditEntryViewSet, basename="audit")
router.register("vulns", VulnerabilityViewSet, basename="vulnerability")
router.register("feeds", FeedStatusViewSet, basename="feed")
router.register("findings", FindingViewSet, basename="finding")
for app_api in (workflow_api, notifications_api, controls_api, dashboard_api):
    app_api.register(router)

urlpatterns = router.urls
