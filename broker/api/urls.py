from django.urls import path
from rest_framework.routers import SimpleRouter

from broker.api import photos, views

router = SimpleRouter(use_regex_path=False)
router.register("subscriptions", views.SubscriptionViewSet, basename="subscription")
router.register("intents", views.IntentViewSet, basename="intent")
router.register("bids", views.BidViewSet, basename="bid")
router.register("webhooks", views.WebhookEndpointViewSet, basename="webhook")
router.register("reports", views.ReportViewSet, basename="report")

app_name = "api"
urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("categories/", views.CategoryList.as_view(), name="categories"),
    path("regions/", views.RegionList.as_view(), name="regions"),
    path("events/", views.EventList.as_view(), name="events"),
    path("terms/", views.TermsList.as_view(), name="terms"),
    path("agreements/", views.AgreementRecordList.as_view(), name="agreements"),
    path("bids/<uuid:bid_id>/photos/", photos.BidPhotoList.as_view(), name="bid-photos"),
    path("bids/<uuid:bid_id>/photos/<uuid:photo_id>/", photos.BidPhotoDetail.as_view(), name="bid-photo"),
    *router.urls,
]
