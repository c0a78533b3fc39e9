"""The customer's path in a real browser: Playwright driving Debian's Chromium (never a
downloaded browser)."""

import os
from decimal import Decimal
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect, sync_playwright

from intents.models import Intent
from tests.factories import VendorFactory
from vendors.deal import accept_bid
from vendors.models import Bid, Block, Message
from vendors.services import place_bid, revise_bid
from vendors.threads import post_message

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


def serious_violations(page) -> list[str]:
    """axe-core's serious or critical findings on the page (axe-playwright-python ships axe)."""
    results = Axe().run(page)
    return [
        f"{violation['id']}: {violation['help']}"
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def offer(vendor, intent, amount, **attributes):
    bid = place_bid(
        vendor=vendor,
        intent_id=intent.pk,
        amount=Decimal(amount),
        currency="GBP",
        message=f"{vendor.name}: a {attributes.get('year', '')} Yaris, HPI clear.",
        offered_attributes={"make": "Toyota", "model": "Yaris", **attributes},
    )
    return bid


def test_she_posts_compares_live_offers_counters_accepts_completes_and_rates(
    browser, live_server, categories, regions, subscribe
):
    dealers = [VendorFactory(name=name) for name in ("Yaris World", "London Motors", "Budget Cars")]
    for dealer in dealers:
        subscribe(dealer)
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
    assert serious_violations(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENSHOTS / "request-form-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_label("In a few words, what do you want?").fill("Toyota Yaris from 2006, T3 or TR")
    page.get_by_label("Make").select_option("Toyota")
    page.locator("#id_attr_year_0").fill("2006")  # from 2006, no upper bound
    page.get_by_label("T3", exact=True).check()
    page.get_by_label("TR", exact=True).check()
    page.get_by_label("Mileage, at most (mi)").fill("lots")
    page.get_by_label("Where").select_option("GB-LND")
    page.get_by_label("Budget, at most").fill("4000")
    page.get_by_role("button", name="Publish request").click()
    # Bad input: the message sits next to the field, and what she typed is still there.
    expect(page.locator(".has-error").filter(has_text="Enter a number")).to_be_visible()
    expect(page.get_by_label("In a few words, what do you want?")).to_have_value("Toyota Yaris from 2006, T3 or TR")
    page.get_by_label("Mileage, at most (mi)").fill("60000")
    page.get_by_role("button", name="Publish request").click()
    expect(page.get_by_text("Your request is out.")).to_be_visible()
    intent = Intent.objects.get()
    assert intent.attributes["year"] == {"min": 2006} and intent.attributes["mileage"] == 60000
    expect(page.get_by_text("Your request reached 3 vendors")).to_be_visible()

    # Three concrete offers arrive while she watches: no reload.
    offer(dealers[0], intent, "3750", year=2008, trim="T3", mileage=52000, colour="silver")
    offer(dealers[1], intent, "3600", year=2005, trim="TR", mileage=48000, colour="blue")
    budget = offer(dealers[2], intent, "3450", year=2007, trim="T2", mileage=71000, colour="red")
    live = page.locator(".compare-wide")
    expect(live.locator("thead th.offer-head")).to_have_count(3, timeout=15_000)
    expect(live.locator("thead th.offer-head").first).to_contain_text("Budget Cars")  # cheapest first
    year_row = live.locator("tr", has=page.locator("th", has_text="Year"))
    expect(year_row.locator("td.mark-meets")).to_have_count(2)  # 2008 and 2007 are from 2006
    expect(year_row.locator("td.mark-differs")).to_contain_text("2005")
    trim_row = live.locator("tr", has=page.locator("th", has_text="Trim"))
    expect(trim_row.locator("td.mark-differs")).to_contain_text("T2")
    expect(live).to_contain_text("£3,450")
    expect(live).to_contain_text("£550 under your budget")
    assert serious_violations(page) == []
    page.screenshot(path=str(SCREENSHOTS / "comparison-laptop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator(".compare-cards .offer-card")).to_have_count(3)
    assert serious_violations(page) == []
    page.screenshot(path=str(SCREENSHOTS / "comparison-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    # She asks Budget Cars for a better offer; it answers by revising, and the page shows it.
    live.get_by_role("link", name="Ask for better from Budget Cars").click()
    page.get_by_label("The price you would accept").fill("3300")
    page.get_by_label("A note to the vendor").fill("And a fresh MOT?")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("You asked for £3,300: waiting for the vendor.").first).to_be_visible()
    revise_bid(bid=budget, amount=Decimal("3300"), message="Budget Cars: £3,300 with a fresh MOT.")
    expect(page.locator(".compare-wide")).to_contain_text("was £3,450", timeout=15_000)

    # Accepting asks first and says what will happen to the other offers.
    page.locator(".compare-wide").get_by_role("link", name="Accept Yaris World's offer").click()
    expect(page.get_by_role("heading", name="Accept Yaris World's offer?")).to_be_visible()
    expect(page.get_by_text("The other 2 offers will be declined")).to_be_visible()
    assert serious_violations(page) == []
    page.screenshot(path=str(SCREENSHOTS / "accept-confirm.png"), full_page=True)
    page.get_by_role("button", name="Accept this offer").click()
    expect(page.get_by_role("heading", name="Deal agreed with Yaris World")).to_be_visible()
    expect(page.get_by_role("link", name="Accept", exact=False)).to_have_count(0)

    page.get_by_label("How did the deal end?").select_option("completed")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Deal completed with Yaris World")).to_be_visible()
    expect(page.get_by_label("How was the deal?")).to_have_value("")  # nothing preselected
    page.get_by_label("How was the deal?").select_option("5")
    page.get_by_role("button", name="Rate").click()
    expect(page.get_by_text("You rated this deal 5 / 5.")).to_be_visible()
    assert Bid.objects.get(vendor=dealers[1]).status == "declined"


def signed_in_page(browser, live_server, user, width=1280):
    """A page signed in as ``user`` (a session made by Django's test client, handed to the browser)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return context.new_page()


def both_widths(page, name):
    """Screenshots at laptop and phone width, each checked by axe-core."""
    for width, height, suffix in ((1280, 900, "laptop"), (390, 844, "phone")):
        page.set_viewport_size({"width": width, "height": height})
        assert serious_violations(page) == [], f"{name} at {suffix} width"
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{suffix}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_my_vendors_history_notes_block_and_unblock(browser, live_server, customer, publish, subscribe):
    yaris, chatty = VendorFactory(name="Yaris World"), VendorFactory(name="Chatty Cars")
    subscribe(yaris)
    subscribe(chatty)
    intent = publish(customer, title="Silver Yaris")
    bid = offer(yaris, intent, "3750", year=2016)
    post_message(intent=intent, vendor=yaris, sender=Message.Sender.VENDOR, body="Full service history.")
    post_message(intent=intent, vendor=chatty, sender=Message.Sender.VENDOR, body="We may have one next week.")
    accept_bid(customer=customer, bid_id=bid.pk)
    page = signed_in_page(browser, live_server, customer)

    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="My vendors").click()
    expect(page.get_by_role("heading", name="My vendors")).to_be_visible()
    expect(page.get_by_text("1 offer · 1 deal · 1 message")).to_be_visible()
    both_widths(page, "my-vendors")

    page.get_by_role("link", name="Yaris World").click()
    expect(page.get_by_role("heading", name="Yaris World", exact=True)).to_be_visible()
    expect(page.get_by_text("Full service history.")).to_be_visible()
    expect(page.get_by_role("link", name="Invite to a new request")).to_have_attribute(
        "href", f"/requests/new/?invite={yaris.pk}"
    )
    page.get_by_label("Your notes").fill("Ask for Tom. Honest about the tyres.")
    page.get_by_role("button", name="Save notes").click()
    expect(page.get_by_text("Notes saved. Only you can see them.")).to_be_visible()
    expect(page.get_by_label("Your notes")).to_have_value("Ask for Tom. Honest about the tyres.")
    both_widths(page, "vendor-page")

    page.get_by_role("link", name="Block Yaris World").click()
    expect(page.get_by_role("heading", name="Block Yaris World?")).to_be_visible()
    assert serious_violations(page) == []
    page.screenshot(path=str(SCREENSHOTS / "vendor-block-confirm.png"), full_page=True)
    page.get_by_role("button", name="Block Yaris World").click()
    expect(page.get_by_text("Blocked. None of your requests will reach Yaris World again.")).to_be_visible()
    expect(page.get_by_role("link", name="Invite to a new request")).to_have_count(0)
    page.get_by_role("link", name="Unblock Yaris World").click()
    page.get_by_role("button", name="Unblock Yaris World").click()
    expect(page.get_by_text("Unblocked.")).to_be_visible()
    assert not Block.objects.exists()


def test_notifications_bell_list_mark_read_and_email_settings(browser, live_server, customer, publish, subscribe):
    yaris = VendorFactory(name="Yaris World")
    subscribe(yaris)
    intent = publish(customer, title="Silver Yaris")
    offer(yaris, intent, "3750", year=2016)
    post_message(intent=intent, vendor=yaris, sender=Message.Sender.VENDOR, body="Full service history.")
    page = signed_in_page(browser, live_server, customer)

    page.goto(f"{live_server.url}/requests/")
    page.get_by_role("link", name="Notifications 2 unread").click()
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    items = page.locator(".notifications li")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("Yaris World wrote about “Silver Yaris”")  # newest first
    both_widths(page, "notifications")

    items.filter(has_text="made an offer").get_by_role("button", name="Open and mark read").click()
    expect(page.get_by_role("heading", name="Silver Yaris")).to_be_visible()
    expect(page.get_by_role("link", name="Notifications 1 unread")).to_be_visible()
    page.get_by_role("link", name="Notifications 1 unread").click()
    page.get_by_role("button", name="Mark all 1 as read").click()
    expect(page.get_by_text("All marked read.")).to_be_visible()
    expect(page.locator(".nav-count")).to_have_count(0)

    page.get_by_role("link", name="Choose which ones you also get by email").click()
    page.get_by_label("New offers").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    expect(page.get_by_label("New offers")).not_to_be_checked()
    both_widths(page, "notification-settings")


def test_personal_data_in_a_request_is_highlighted_and_removed(browser, live_server, customer, categories, regions):
    customer.first_name, customer.last_name = "Alice", "Liddell"
    customer.save()
    page = signed_in_page(browser, live_server, customer)
    page.goto(f"{live_server.url}/requests/new/?category={categories['cars'].pk}&country=GB")
    page.get_by_label("In a few words, what do you want?").fill("Silver Yaris, T3 or TR")
    page.get_by_label("Anything else vendors should know").fill(
        "I'm Alice, call 07911 123456 or alice@example.com; viewing at 1 Wonderland Road, SW1A 1AA."
    )
    page.get_by_role("button", name="Publish request").click()
    expect(page.get_by_role("heading", name="Your request contains personal data")).to_be_visible()
    expect(page.locator(".pii-warning mark")).to_have_count(5)
    both_widths(page, "personal-data-warning")
    page.get_by_role("button", name="Remove them for me").click()
    expect(page.get_by_label("Anything else vendors should know")).to_have_value(
        "I'm [name removed], call [phone removed] or [email removed]; viewing at [address removed], [postcode removed]."
    )
    page.get_by_role("button", name="Publish request").click()
    expect(page.get_by_text("Your request is out.")).to_be_visible()
    assert "07911" not in Intent.objects.get().details
