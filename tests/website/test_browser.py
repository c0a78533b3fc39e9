"""The customer's path in a real browser: Playwright driving Debian's Chromium (never a
downloaded browser)."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from intents.models import Intent
from tests.factories import VendorFactory
from vendors.models import Bid

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp"))


@pytest.fixture
def browser():
    # Playwright's sync API runs an event loop in this thread; the ORM calls between its steps
    # are ordinary synchronous test code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def test_customer_posts_a_request_compares_bids_and_accepts_one(browser, live_server, categories, regions):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/accounts/signup/")
    page.get_by_label("Email:").fill("jane@example.com")
    page.get_by_label("Password:", exact=True).fill("a long unusual passphrase")
    page.get_by_label("Password (again):").fill("a long unusual passphrase")
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", name="My requests")).to_be_visible()

    page.get_by_role("link", name="Post a request").first.click()
    page.get_by_label("What are you looking for?").select_option(label="— Cars")
    page.get_by_label("Country").select_option("GB")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("In a few words, what do you want?").fill("Low-mileage Toyota Yaris, T3 or TR spec")
    page.get_by_label("Make").select_option("Toyota")
    page.get_by_label("T3", exact=True).check()
    page.get_by_label("TR", exact=True).check()
    page.get_by_label("Mileage (mi)").fill("lots")
    page.get_by_label("Air conditioning").select_option("true")
    page.get_by_label("Where").select_option("GB-LND")
    page.get_by_label("Budget, at most").fill("4000")
    page.get_by_role("button", name="Publish request").click()
    # Bad input: the message sits next to the field, and what she typed is still there.
    expect(page.locator(".has-error").filter(has_text="Enter a number.")).to_be_visible()
    expect(page.get_by_label("In a few words, what do you want?")).to_have_value(
        "Low-mileage Toyota Yaris, T3 or TR spec"
    )
    page.get_by_label("Mileage (mi)").fill("40000")
    page.get_by_role("button", name="Publish request").click()
    expect(page.get_by_text("Your request is out.")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "request-posted.png"), full_page=True)

    intent = Intent.objects.get()
    assert intent.attributes["trim"] == ["T3", "TR"] and intent.attributes["mileage"] == 40000
    for name, amount in (("Yaris World", "3750.00"), ("London Motors", "3600.00")):
        Bid.objects.create(
            intent=intent,
            vendor=VendorFactory(name=name),
            amount=amount,
            currency="GBP",
            terms_accepted=intent.terms,
            message=f"{name}: 2005 Yaris T3, silver",
        )

    page.reload()
    rows = page.locator("tr.bid")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("London Motors")  # cheapest first
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENSHOTS / "bids-phone.png"), full_page=True)

    page.locator("tr.bid", has_text="Yaris World").get_by_role("button", name="Accept").click()
    expect(page.get_by_text("Bid accepted.")).to_be_visible()
    expect(page.locator("tr.bid", has_text="Yaris World").locator(".bid-status")).to_have_text("Accepted")
    expect(page.locator("tr.bid", has_text="London Motors").locator(".bid-status")).to_have_text("Declined")
    expect(page.get_by_role("button", name="Accept")).to_have_count(0)
