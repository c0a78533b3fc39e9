"""A dealer without developers works in the browser (Playwright on Debian's Chromium): it signs
up, an admin approves it, it creates a subscription, a matching request arrives in its inbox
without a reload, it makes an offer, and the customer sees it on her request page. Screenshots
at laptop and phone width, each page checked by axe-core."""

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from tests.website.test_browser import SCREENSHOTS, both_widths, browser  # noqa: F401
from vendors.models import Bid, Subscription, Vendor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long unusual passphrase"


def test_a_dealer_subscribes_sees_a_request_arrive_live_and_makes_an_offer_she_sees(
    browser,  # noqa: F811
    live_server,
    categories,
    regions,
    admin_user,
    customer,
    publish,
):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/vendor/signup/")
    page.get_by_label("Business name").fill("Croydon Motors")
    page.get_by_label("Contact email").fill("sales@croydon-motors.example")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_label("What you sell").select_option(label="— Cars")
    page.get_by_label("Where you sell").select_option("GB")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Awaiting approval")).to_be_visible()

    admin = browser.new_page(viewport={"width": 1280, "height": 900})
    admin.goto(f"{live_server.url}/admin/login/?next=/admin/vendors/vendor/")
    admin.get_by_label("Username").fill(admin_user.username)
    admin.get_by_label("Password").fill("password")
    admin.get_by_role("button", name="Log in").click()
    admin.get_by_role("link", name="Awaiting approval").click()
    admin.get_by_role("checkbox", name="Select this object for an action - Croydon Motors").check()
    admin.locator("select[name=action]").select_option("approve")
    admin.get_by_role("button", name="Go").click()
    expect(admin.get_by_text("Approved 1 vendor(s).")).to_be_visible()
    assert Vendor.objects.get().status == Vendor.Status.APPROVED

    # A subscription: a bad keyword first (the message next to the field, nothing saved).
    page.reload()
    nav = page.get_by_role("navigation", name="Vendor area")
    nav.get_by_role("link", name="Subscriptions").click()
    expect(page.get_by_text("No subscriptions yet")).to_be_visible()
    page.get_by_role("link", name="New subscription").click()
    page.get_by_label("Name", exact=True).fill("Yarises in London")
    page.get_by_label("Categories").select_option(label="— Cars")
    page.get_by_label("Find a region").fill("London")
    page.get_by_role("button", name="Find regions").click()
    page.get_by_label("Regions").select_option("GB-LND")
    page.get_by_role("button", name="Show their filters").click()
    page.get_by_label("Make: only these").select_option("Toyota")
    page.get_by_label("Keywords", exact=True).fill("!!!")
    page.get_by_role("button", name="Save subscription").click()
    expect(page.locator(".has-error").filter(has_text="at least one letter or digit")).to_be_visible()
    assert not Subscription.objects.exists()
    page.get_by_label("Keywords", exact=True).fill("Yaris")
    page.get_by_role("button", name="Preview the last 30 days").click()
    expect(page.get_by_text("would have matched 0 requests in the last 30 days")).to_be_visible()
    both_widths(page, "vendor-subscription-form")
    page.get_by_role("button", name="Save subscription").click()
    expect(page.get_by_text("Subscription “Yarises in London” is saved.")).to_be_visible()
    subscription = Subscription.objects.get()
    assert subscription.attribute_filters == {"make": {"in": ["Toyota"]}} and subscription.keywords == ["Yaris"]
    both_widths(page, "vendor-subscriptions")

    # The inbox is open and empty; her request arrives without a reload.
    nav.get_by_role("link", name="Inbox").click()
    expect(page.get_by_text("No requests yet")).to_be_visible()
    page.evaluate("window.__notReloaded = true")
    intent = publish(customer, title="Low-mileage Toyota Yaris, T3 or TR spec")
    expect(page.get_by_role("link", name="Low-mileage Toyota Yaris, T3 or TR spec")).to_be_visible(timeout=15_000)
    assert page.evaluate("window.__notReloaded") is True
    both_widths(page, "vendor-inbox")

    # She is a handle; an offer with a bad price first.
    page.get_by_role("link", name="Low-mileage Toyota Yaris, T3 or TR spec").click()
    expect(page.get_by_role("heading", name="What she wants")).to_be_visible()
    assert customer.email not in page.content() and customer.username not in page.content()
    page.get_by_label("Price").fill("lots")
    page.get_by_role("button", name="Send the offer").click()
    expect(page.locator(".has-error").filter(has_text="Enter a number")).to_be_visible()
    assert not Bid.objects.exists()
    page.get_by_label("Price").fill("3850")
    page.locator("#id_offer_make").select_option("Toyota")
    page.locator("#id_offer_mileage").fill("38000")
    page.get_by_label("Your offer in words").fill("Silver 2012 Yaris T3, one owner, full service history.")
    page.get_by_role("button", name="Send the offer").click()
    expect(page.get_by_text("Your offer is sent")).to_be_visible()
    both_widths(page, "vendor-request")
    assert Bid.objects.get().amount == 3850

    # She sees it on her request page.
    client = Client()
    client.force_login(customer)
    her = browser.new_context(viewport={"width": 1280, "height": 900})
    her.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    customer_page = her.new_page()
    customer_page.goto(f"{live_server.url}/requests/{intent.pk}/")
    expect(customer_page.locator("#offers")).to_contain_text("Croydon Motors")
    expect(customer_page.locator("#offers")).to_contain_text("£3,850")
    customer_page.screenshot(path=str(SCREENSHOTS / "customer-sees-web-offer.png"), full_page=True)
    her.close()
