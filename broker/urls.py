from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from broker.api.photos import serve_photo

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include("broker.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("", include("broker.website.urls")),
]

if settings.MEDIA_STORAGE == "local":
    # Files kept on this machine are served by Django, photos only and with safe headers; an S3
    # bucket serves its own.
    urlpatterns.insert(0, path("media/<path:name>", serve_photo, name="media"))

handler404 = "broker.api.errors.not_found"
handler500 = "broker.api.errors.server_error"
