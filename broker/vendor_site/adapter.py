"""django-allauth's adapter: after logging in, a vendor's login lands in the vendor area and a
customer on her requests (one login form for both kinds of account)."""

from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse

from vendors.team import is_vendor_account


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request) -> str:
        if is_vendor_account(request.user):
            return reverse("vendor_site:dashboard")
        return super().get_login_redirect_url(request)
