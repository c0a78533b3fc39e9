"""Attacks on reputation, and what stops them (docs/reputation.md, "Against gaming")."""

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from broker.core.errors import Conflict
from broker.models import AuditLog
from reputation.models import AccountLink, CustomerScore, Rating, RingFlag
from reputation.selectors import customer_reputation, vendor_reputation
from reputation.services import (
    NotRateable,
    decide_ring,
    detect_rings,
    link_accounts,
    rate,
    recompute_all,
    unlink_accounts,
)
from tests.factories import UserFactory, VendorFactory
from vendors.models import Vendor

pytestmark = pytest.mark.django_db


def _ring(make_deal, rate_both, vendor, size=10, **user):
    """``size`` fresh accounts, each with one deal, all with ``vendor``, all rating it 5."""
    customers = [UserFactory(**user) for _ in range(size)]
    for customer in customers:
        rate_both(make_deal(customer, vendor), 5, 5)
    return customers


def test_a_ring_of_ten_fresh_customers_is_held_for_review(make_deal, rate_both):
    vendor = VendorFactory()
    customers = _ring(make_deal, rate_both, vendor)
    assert vendor_reputation(vendor.pk)["ratings"] == 10  # before the detector runs

    [flag] = detect_rings()
    assert flag.vendor == vendor and flag.status == RingFlag.Status.OPEN
    assert "10 customer accounts" in flag.summary
    # Both directions of every ring deal are held: the vendor's ratings of its accomplices too.
    assert Rating.objects.filter(ring=flag, review=Rating.Review.IN_REVIEW).count() == 20
    assert vendor_reputation(vendor.pk) == {"ratings": 0, "score": None, "rank_score": None}
    assert customer_reputation(customers[0].pk) == {"band": "new", "rated_deals": "0"}
    assert AuditLog.objects.filter(action="ring.flagged", target_id=str(flag.pk)).exists()
    assert detect_rings() == []  # held ratings are not flagged twice


def test_a_confirmed_ring_never_counts_and_a_cleared_one_counts_again(make_deal, rate_both, admin_user):
    ring_vendor, honest_vendor = VendorFactory(), VendorFactory()
    _ring(make_deal, rate_both, ring_vendor)
    _ring(make_deal, rate_both, honest_vendor, size=6)
    confirmed, cleared = sorted(detect_rings(), key=lambda f: f.vendor_id != ring_vendor.pk)
    decide_ring(flag=confirmed, confirm=True, reason="Same device, same hour", moderator=admin_user)
    decide_ring(flag=cleared, confirm=False, reason="A car club's members", moderator=admin_user)
    assert vendor_reputation(ring_vendor.pk)["ratings"] == 0
    assert vendor_reputation(honest_vendor.pk)["ratings"] == 6
    assert AuditLog.objects.get(action="ring.confirmed").detail["reason"] == "Same device, same hour"
    recompute_all()
    assert detect_rings() == []  # decided ratings stay decided
    assert vendor_reputation(ring_vendor.pk)["ratings"] == 0
    with pytest.raises(Conflict):
        decide_ring(flag=confirmed, confirm=False, reason="Changed my mind", moderator=admin_user)


def test_a_ring_decision_needs_a_reason(make_deal, rate_both, admin_user):
    _ring(make_deal, rate_both, VendorFactory(), size=5)
    [flag] = detect_rings()
    with pytest.raises(ValidationError):
        decide_ring(flag=flag, confirm=True, reason="  ", moderator=admin_user)
    flag.refresh_from_db()
    assert flag.status == RingFlag.Status.OPEN


def test_customers_who_are_not_fresh_or_deal_elsewhere_are_no_ring(make_deal, rate_both):
    vendor, other = VendorFactory(), VendorFactory()
    old_accounts = _ring(make_deal, rate_both, vendor, size=4, date_joined=timezone.now() - timedelta(days=400))
    fresh = _ring(make_deal, rate_both, vendor, size=4)
    make_deal(fresh[0], other)  # a real customer of two vendors
    assert len(old_accounts) == 4
    assert detect_rings() == []  # 3 suspicious accounts, fewer than RING_MIN_ACCOUNTS (5)
    assert vendor_reputation(vendor.pk)["ratings"] == 8


def test_a_vendors_second_account_on_its_own_domain_cannot_rate_it(make_deal):
    vendor = VendorFactory(contact_email="sales@dodgy-motors.example")
    own = UserFactory(email="owner@Dodgy-Motors.example")
    bid = make_deal(own, vendor)
    with pytest.raises(NotRateable, match="one party"):
        rate(bid=bid, by=Rating.Side.CUSTOMER, score=5)
    with pytest.raises(NotRateable, match="one party"):
        rate(bid=bid, by=Rating.Side.VENDOR, score=5)
    assert not Rating.objects.exists()


def test_a_shared_webmail_domain_is_no_link(make_deal, rate_both):
    vendor = VendorFactory(contact_email="bobs.cars@gmail.com")
    customer = UserFactory(email="alice.smith@gmail.com")
    rate_both(make_deal(customer, vendor), 5)
    assert vendor_reputation(vendor.pk)["ratings"] == 1


def test_an_account_acting_for_the_vendor_cannot_rate_it(make_deal):
    vendor = VendorFactory()
    staff = UserFactory()
    vendor.users.add(staff)
    with pytest.raises(NotRateable):
        rate(bid=make_deal(staff, vendor), by=Rating.Side.CUSTOMER, score=5)


def test_an_admin_link_stops_past_ratings_counting_and_refuses_new_ones(make_deal, rate_both, admin_user):
    vendor, second = VendorFactory(), UserFactory()
    rate_both(make_deal(second, vendor), 5, 5)
    assert vendor_reputation(vendor.pk)["ratings"] == 1
    with pytest.raises(ValidationError):
        link_accounts(user=second, vendor=vendor, reason="", moderator=admin_user)
    link = link_accounts(user=second, vendor=vendor, reason="Same director, Companies House", moderator=admin_user)
    assert vendor_reputation(vendor.pk)["ratings"] == 0
    assert customer_reputation(second.pk)["rated_deals"] == "0"
    with pytest.raises(NotRateable):
        rate(bid=make_deal(second, vendor), by=Rating.Side.CUSTOMER, score=5)
    assert AuditLog.objects.get(action="account_link.created").detail["reason"] == "Same director, Companies House"
    unlink_accounts(link=link, moderator=admin_user, reason="Director resigned")
    assert vendor_reputation(vendor.pk)["ratings"] == 1


def test_linking_in_admin_goes_through_the_service(admin_client, make_deal, rate_both):
    vendor, second = VendorFactory(), UserFactory()
    rate_both(make_deal(second, vendor), 5)
    response = admin_client.post(
        reverse("admin:reputation_accountlink_add"), {"user": second.pk, "vendor": vendor.pk, "reason": ""}
    )
    assert response.status_code == 200 and not AccountLink.objects.exists()  # the reason is required
    admin_client.post(
        reverse("admin:reputation_accountlink_add"), {"user": second.pk, "vendor": vendor.pk, "reason": "Same owner"}
    )
    assert AccountLink.objects.get().created_by is not None
    assert AuditLog.objects.filter(action="account_link.created").exists()
    assert vendor_reputation(vendor.pk)["ratings"] == 0


def test_repeat_deals_between_the_same_pair_do_not_stack(make_deal, rate_both):
    vendor, customer = VendorFactory(), UserFactory()
    for days_ago in (20, 10, 1):  # three deals within 30 days, each rated 5 by both
        rate_both(make_deal(customer, vendor, days_ago=days_ago), 5, 5, days_ago=days_ago)
    recompute_all()
    assert Rating.objects.count() == 6  # recorded...
    assert vendor_reputation(vendor.pk)["ratings"] == 1  # ...but one counts per side
    assert customer_reputation(customer.pk)["rated_deals"] == "1-4"
    # A deal more than 30 days after the last counting one counts again.
    rate_both(make_deal(customer, vendor, days_ago=55), 5, 5, days_ago=55)
    recompute_all()
    assert vendor_reputation(vendor.pk)["ratings"] == 2
    # Another customer's rating counts at once.
    rate_both(make_deal(UserFactory(), vendor), 4)
    assert vendor_reputation(vendor.pk)["ratings"] == 3


def test_a_suspended_vendors_ratings_given_and_received_stop_counting(admin_client, make_deal, rate_both):
    vendor, customer = VendorFactory(), UserFactory()
    for _ in range(3):
        rate_both(make_deal(UserFactory(), vendor), 5, 5)
    rate_both(make_deal(customer, vendor), 5, 1)
    rate_both(make_deal(customer, VendorFactory()), 5, 5)
    assert vendor_reputation(vendor.pk)["ratings"] == 4
    assert CustomerScore.objects.get(customer=customer).ratings == 2
    changelist = reverse("admin:vendors_vendor_changelist")
    admin_client.post(
        changelist, {"action": "suspend", ACTION_CHECKBOX_NAME: [vendor.pk], "apply": "1", "reason": "Rating ring"}
    )
    assert Vendor.objects.get(pk=vendor.pk).status == Vendor.Status.SUSPENDED
    assert vendor_reputation(vendor.pk)["ratings"] == 0
    # Its 1 of her no longer counts; only the other vendor's 5 does.
    assert CustomerScore.objects.get(customer=customer).ratings == 1
    recompute_all()
    assert vendor_reputation(vendor.pk)["ratings"] == 0
    admin_client.post(
        changelist, {"action": "reinstate", ACTION_CHECKBOX_NAME: [vendor.pk], "apply": "1", "reason": "Cleared"}
    )
    assert vendor_reputation(vendor.pk)["ratings"] == 4


def test_self_rating_through_the_api_is_refused(make_vendor_client, make_deal):
    client = make_vendor_client(VendorFactory(contact_email="desk@own-garage.example"))
    bid = make_deal(UserFactory(email="me@own-garage.example"), client.vendor)
    response = client.post(f"/api/v1/bids/{bid.pk}/rating/", {"score": 5}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_rateable"
    assert not Rating.objects.exists()


def test_removing_a_link_in_admin_asks_for_a_reason(admin_client, admin_user, make_deal, rate_both):
    vendor, second = VendorFactory(), UserFactory()
    rate_both(make_deal(second, vendor), 5)
    link = link_accounts(user=second, vendor=vendor, reason="Same owner", moderator=admin_user)
    url = reverse("admin:reputation_accountlink_changelist")
    asked = admin_client.post(url, {"action": "remove_links", ACTION_CHECKBOX_NAME: [link.pk]})
    assert asked.status_code == 200 and b"Why? (kept in the audit log)" in asked.content
    admin_client.post(url, {"action": "remove_links", ACTION_CHECKBOX_NAME: [link.pk], "apply": "1", "reason": ""})
    assert AccountLink.objects.exists()  # no reason, nothing removed
    admin_client.post(
        url, {"action": "remove_links", ACTION_CHECKBOX_NAME: [link.pk], "apply": "1", "reason": "Sold the business"}
    )
    assert not AccountLink.objects.exists()
    assert AuditLog.objects.get(action="account_link.removed").detail["reason"] == "Sold the business"
    assert vendor_reputation(vendor.pk)["ratings"] == 1
    # Never deleted without a reason: the admin's own delete is off.
    again = link_accounts(user=second, vendor=vendor, reason="Bought it back", moderator=admin_user)
    assert admin_client.get(reverse("admin:reputation_accountlink_delete", args=[again.pk])).status_code == 403
