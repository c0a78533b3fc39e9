from django.urls import path

from broker.vendor_site import views

app_name = "vendor_site"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("signup/", views.signup, name="signup"),
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
