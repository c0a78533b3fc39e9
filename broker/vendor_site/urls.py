from django.urls import path

from broker.vendor_site import views, work_views

app_name = "vendor_site"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("signup/", views.signup, name="signup"),
    path("requests/", work_views.inbox, name="inbox"),
    path("requests/<uuid:intent_id>/", work_views.request_detail, name="request"),
    path("requests/<uuid:intent_id>/offer/", work_views.request_offer, name="request_offer"),
    path("requests/<uuid:intent_id>/withdraw/", work_views.request_withdraw, name="request_withdraw"),
    path("requests/<uuid:intent_id>/photos/", work_views.request_photo, name="request_photo"),
    path(
        "requests/<uuid:intent_id>/photos/<uuid:photo_id>/remove/",
        work_views.request_photo_remove,
        name="request_photo_remove",
    ),
    path("requests/<uuid:intent_id>/pass/", work_views.request_pass, name="request_pass"),
    path("requests/<uuid:intent_id>/message/", work_views.request_message, name="request_message"),
    path("requests/<uuid:intent_id>/terms/", work_views.request_terms, name="request_terms"),
    path("requests/<uuid:intent_id>/outcome/", work_views.request_outcome, name="request_outcome"),
    path("offers/", work_views.offers, name="offers"),
    path("subscriptions/", work_views.subscription_list, name="subscriptions"),
    path("subscriptions/new/", work_views.subscription_edit, name="subscription_new"),
    path("subscriptions/<uuid:subscription_id>/", work_views.subscription_edit, name="subscription"),
    path("subscriptions/<uuid:subscription_id>/toggle/", work_views.subscription_toggle, name="subscription_toggle"),
    path("subscriptions/<uuid:subscription_id>/delete/", work_views.subscription_delete, name="subscription_delete"),
    path("keys/", views.keys, name="keys"),
    path("keys/<int:key_id>/revoke/", views.key_revoke, name="key_revoke"),
    path("webhooks/", views.webhook_list, name="webhooks"),
    path("webhooks/<uuid:endpoint_id>/", views.webhook_detail, name="webhook"),
    path("webhooks/<uuid:endpoint_id>/ping/", views.webhook_ping, name="webhook_ping"),
    path("webhooks/<uuid:endpoint_id>/rotate/", views.webhook_rotate, name="webhook_rotate"),
    path("webhooks/<uuid:endpoint_id>/delete/", views.webhook_delete, name="webhook_delete"),
    path("team/", views.team_page, name="team"),
    path("team/<int:membership_id>/remove/", views.member_remove, name="member_remove"),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
]
