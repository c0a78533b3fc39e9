"""The project's URLs plus the floor of bench/api.py, for bench.api_settings only: the
production URLs (broker.urls) never route /bench/ (tests/broker/test_bench_urls.py)."""

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from broker.urls import handler404, handler500
from broker.urls import urlpatterns as project_urlpatterns
from intents.models import Intent


class Floor(APIView):
    """The least a DRF view that reads 20 rows of the intents table can do: no authentication, no
    rate limit, one query, the rows as they are."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    def get(self, request):
        rows = Intent.objects.order_by("pk").values(
            "id", "title", "details", "language", "attributes", "budget_max", "currency", "status", "created_at"
        )[:20]
        return Response({"results": list(rows)})


urlpatterns = [path("bench/floor/", Floor.as_view(), name="bench-floor"), *project_urlpatterns]

__all__ = ["handler404", "handler500", "urlpatterns"]
