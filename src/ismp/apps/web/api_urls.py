from rest_framework.routers import DefaultRouter

from ismp.apps.accounts.api import OrganisationViewSet, TokenViewSet, UserViewSet
from ismp.apps.audit.api import AuditEntryViewSet
from ismp.apps.findings.api import FindingViewSet
from ismp.apps.inventory.api import ComponentViewSet, SystemViewSet
from ismp.apps.vulns.api import FeedStatusViewSet, VulnerabilityViewSet

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

urlpatterns = router.urls
