"""A dealer's first afternoon in a real browser (Playwright on Debian's Chromium): it signs up,
an admin approves it, it creates an API key and registers a webhook. Screenshots at laptop and
phone width, each page checked by axe-core."""

import pytest
from playwright.sync_api import expect

from tests.broker.receiver import Receiver
from tests.website.test_browser import SCREENSHOTS, both_widths, browser  # noqa: F401
from vendors.models import ApiKey, Vendor, WebhookEndpoint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long unusual passphrase"


def test_a_dealer_signs_up_is_approved_creates_a_key_and_registers_a_webhook(
    browser,  # noqa: F811
    live_server,
    categories,
    regions,
    admin_user,
):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/vendor/signup/")
    both_widths(page, "vendor-signup")
    page.get_by_label("Business name").fill("Croydon Motors")
    page.get_by_label("Contact email").fill("sales@croydon-motors.example")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_label("Website").fill("not a website")
    page.get_by_label("About your business").fill("Family dealer in Croydon since 1987: used Toyotas and Hondas.")
    page.get_by_label("What you sell").select_option(label="— Cars")
    page.get_by_label("Where you sell").select_option("GB")
    page.get_by_role("button", name="Sign up").click()
    # Bad input: the message is next to the field, the rest is kept, nothing is saved.
    expect(page.locator(".has-error").filter(has_text="starting with https://")).to_be_visible()
    expect(page.get_by_label("Business name")).to_have_value("Croydon Motors")
    assert not Vendor.objects.exists()
    page.get_by_label("Website").fill("https://croydon-motors.example")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Awaiting approval")).to_be_visible()
    both_widths(page, "vendor-pending")

    # An admin approves it from the approval queue.
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
    admin.screenshot(path=str(SCREENSHOTS / "vendor-admin-approved.png"), full_page=True)
    assert Vendor.objects.get().status == Vendor.Status.APPROVED

    page.reload()
    expect(page.get_by_role("link", name="your public profile")).to_be_visible()
    both_widths(page, "vendor-dashboard")

    # A key, its secret shown once.
    page.get_by_role("navigation", name="Vendor area").get_by_role("link", name="API keys").click()
    page.get_by_label("Key name").fill("")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator(".has-error").filter(has_text="This field is required")).to_be_visible()
    page.get_by_label("Key name").fill("Dealer management system")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_text("Copy it now: we will not show it again.")).to_be_visible()
    raw_key = page.get_by_label("API key").input_value()
    api_key = ApiKey.objects.get()
    assert raw_key.startswith(f"ic_{api_key.prefix}_")
    both_widths(page, "vendor-key-created")
    page.get_by_role("link", name="I have copied it").click()
    expect(page.locator("table.keys")).to_contain_text("Dealer management system")
    expect(page.locator("table.keys")).not_to_contain_text(raw_key)
    both_widths(page, "vendor-keys")

    # A webhook: registered, its secret shown once, pinged, the attempt listed.
    with Receiver() as receiver:
        page.get_by_role("navigation", name="Vendor area").get_by_role("link", name="Webhooks").click()
        page.get_by_label("Endpoint URL").fill("ftp://croydon-motors.example/hooks")
        page.get_by_role("button", name="Register endpoint").click()
        expect(page.locator(".has-error").filter(has_text="Enter an http(s) URL")).to_be_visible()
        assert not WebhookEndpoint.objects.exists()
        page.get_by_label("Endpoint URL").fill(receiver.url)
        page.get_by_role("button", name="Register endpoint").click()
        expect(page.get_by_role("heading", name="Endpoint registered")).to_be_visible()
        assert page.get_by_label("Signing secret").input_value().startswith("whsec_")
        page.get_by_role("link", name="I have copied it").click()
        page.get_by_role("button", name="Send a test ping").click()
        expect(page.get_by_text("A signed webhook.ping is on its way")).to_be_visible()
        page.reload()
        expect(page.locator("table.attempts")).to_contain_text("HTTP 204")
        assert len(receiver.requests) == 1
    both_widths(page, "vendor-webhook")
