from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("ismp.apps.web.api_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("ismp.apps.web.urls")),
]
