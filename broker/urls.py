from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from broker.admin.overview import overview
from broker.api.photos import serve_photo

# The API docs come from drf-spectacular-sidecar's static files. Swagger UI's page needs nothing
# more than the site's policy but data: images; Redoc (styled-components) writes <style> elements
# and runs its search in a blob: worker, so its page alone allows those.
swagger_ui = csp_update({"img-src": ["data:"]})(
    SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api_docs/swagger_ui.html")
)
redoc = csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"], "img-src": ["data:"]})(
    SpectacularRedocView.as_view(url_name="schema", template_name="api_docs/redoc.html")
)

urlpatterns = [
    path("admin/overview/", admin.site.admin_view(overview), name="admin-overview"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include("broker.api.urls")),
    path("vendor/", include("broker.vendor_site.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", swagger_ui, name="api-docs"),
    path("api/redoc/", redoc, name="api-redoc"),
    path("", include("broker.website.urls")),
]

if settings.MEDIA_STORAGE == "local":
    # Files kept on this machine are served by Django, photos only and with safe headers; an S3
    # bucket serves its own.
    urlpatterns.insert(0, path("media/<path:name>", serve_photo, name="media"))

handler404 = "broker.api.errors.not_found"
handler500 = "broker.api.errors.server_error"
