"""The moderators' overview page in admin (``/admin/overview/``): the market per day, the
acceptance rate, live reports by age against their expected response time, held requests and
rings waiting. Read-only; it links to the queues where moderators act."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from moderation.selectors import market_overview


def overview(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "admin/overview.html",
        {**admin.site.each_context(request), "title": "Overview", **market_overview()},
    )


# Linked from the admin's index page (its template adds the link above the apps).
admin.site.index_template = "admin/index_with_overview.html"
