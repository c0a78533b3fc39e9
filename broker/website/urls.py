from django.urls import path

from broker.website import deal_views, memory_views, profile_views, views

app_name = "intents"
urlpatterns = [
    path("", views.home, name="home"),
    path("requests/", views.intent_list, name="list"),
    path("requests/new/", views.intent_new, name="new"),
    path("requests/<uuid:pk>/", views.intent_detail, name="detail"),
    path("requests/<uuid:pk>/offers/", views.intent_offers, name="offers"),
    path("requests/<uuid:pk>/change/", views.intent_amend, name="amend"),
    path("requests/<uuid:pk>/withdraw/", deal_views.intent_withdraw, name="withdraw"),
    path("requests/<uuid:pk>/reveal/", views.reveal_identity, name="reveal"),
    path("requests/<uuid:pk>/bids/<uuid:bid_id>/accept/", deal_views.bid_accept, name="accept"),
    path("requests/<uuid:pk>/bids/<uuid:bid_id>/decline/", deal_views.bid_decline, name="decline"),
    path("requests/<uuid:pk>/bids/<uuid:bid_id>/counter/", deal_views.bid_counter, name="counter"),
    path("requests/<uuid:pk>/bids/<uuid:bid_id>/outcome/", deal_views.deal_outcome, name="outcome"),
    path("requests/<uuid:pk>/bids/<uuid:bid_id>/rate/", views.bid_rate, name="rate"),
    path("requests/<uuid:pk>/vendors/<int:vendor_id>/messages/", views.vendor_thread, name="thread"),
    path("requests/<uuid:pk>/vendors/<int:vendor_id>/block/", deal_views.vendor_block, name="block"),
    path("vendors/", memory_views.vendor_list, name="vendors"),
    path("vendors/<int:vendor_id>/", memory_views.vendor_detail, name="vendor"),
    path("vendors/<int:vendor_id>/profile/", profile_views.vendor_profile, name="vendor_profile"),
    path("vendors/<int:vendor_id>/notes/", memory_views.vendor_note, name="vendor_note"),
    path("vendors/<int:vendor_id>/block/", memory_views.vendor_block_toggle, name="vendor_block"),
    path("notifications/", memory_views.notification_list, name="notifications"),
    path("notifications/read/", memory_views.notifications_read, name="notifications_read"),
    path("notifications/<int:notification_id>/open/", memory_views.notification_open, name="notification_open"),
    path("notifications/settings/", memory_views.notification_settings, name="notification_settings"),
    path("requests/<uuid:pk>/vendors/<int:vendor_id>/terms/", deal_views.terms_respond, name="terms_respond"),
    path("reports/", memory_views.report_list, name="reports"),
    path("report/<str:subject>/<str:subject_id>/", memory_views.report_new, name="report"),
    path("my-data/", views.my_data, name="my_data"),
    path("my-data/export.json", views.export_json, name="export_json"),
    path("my-data/export.zip", views.export_zip, name="export_zip"),
]
