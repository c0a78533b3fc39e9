"""Two reads every page of the website makes, written as plain SQL both backends run, answer as
the ORM's querysets they replace: whether a login is a vendor's (``is_vendor_account``: a current
or a removed member is, a customer and an anonymous visitor are not) and how many of her
notifications are unread (``unread_notification_count``: hers only, read ones left out)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from intents.models import Notification
from intents.selectors import unread_notification_count
from tests.factories import UserFactory, VendorFactory
from vendors.models import VendorMembership
from vendors.team import is_vendor_account

pytestmark = pytest.mark.django_db


def test_a_vendors_login_current_or_removed_is_a_vendor_account_and_a_customers_is_not():
    vendor = VendorFactory()
    current, removed, customer = UserFactory(), UserFactory(), UserFactory()
    VendorMembership.objects.create(vendor=vendor, user=current, role=VendorMembership.Role.OWNER)
    VendorMembership.objects.create(
        vendor=vendor, user=removed, role=VendorMembership.Role.MEMBER, removed_at=timezone.now()
    )
    for user in (current, removed, customer):
        assert is_vendor_account(user) is VendorMembership.objects.filter(user=user).exists()
    assert [is_vendor_account(user) for user in (current, removed, customer)] == [True, True, False]
    assert is_vendor_account(AnonymousUser()) is False


def test_the_unread_count_is_her_unread_notifications_only(customer):
    other = UserFactory()
    for n in range(5):
        Notification.objects.create(
            customer=customer,
            kind=Notification.Kind.OFFER,
            text=f"Offer {n}",
            read_at=timezone.now() if n < 2 else None,
        )
    Notification.objects.create(customer=other, kind=Notification.Kind.OFFER, text="Someone else's")
    for user in (customer, other, UserFactory()):
        assert (
            unread_notification_count(customer=user)
            == Notification.objects.filter(customer=user, read_at__isnull=True).count()
        )
    assert unread_notification_count(customer=customer) == 3
