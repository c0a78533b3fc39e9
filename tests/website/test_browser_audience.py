"""Who hears her, in a real browser: she invites a past vendor, leaves another out, sets a
maximum of two vendors, and sees who got it and what each did (Playwright driving Debian's
Chromium, as tests/website/test_browser.py)."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from intents.models import Intent
from tests.factories import IntentFactory, UserFactory, VendorFactory
from tests.website.test_browser import SCREENSHOTS, browser, offer, serious_violations  # noqa: F401
from vendors.models import Delivery
from vendors.services import mark_seen, pass_intent, save_subscription

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_she_chooses_who_hears_her_and_sees_who_got_it(browser, live_server, categories, regions):  # noqa: F811
    jane = UserFactory(username="jane", email="jane@example.com")
    jane.set_password("a long unusual passphrase")
    jane.save()
    past = IntentFactory(customer=jane, title="A Fiesta, last year", category=categories["cars"], region=regions["GB"])
    dealers = {}
    for name, region in (
        ("Friendly Motors", "FR"),  # sells cars, but not in London: only an invitation reaches it
        ("Pushy Cars", "GB"),
        ("Yaris World", "GB-LND"),
        ("Budget Cars", "GB"),
        ("Quiet Autos", "GB"),
    ):
        dealer = VendorFactory(name=name)
        save_subscription(vendor=dealer, categories=[categories["cars"]], regions=[regions[region]])
        dealers[name] = dealer
    for name in ("Friendly Motors", "Pushy Cars", "Quiet Autos"):
        Delivery.objects.create(intent=past, vendor=dealers[name])

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email:").fill("jane@example.com")
    page.get_by_label("Password:").fill("a long unusual passphrase")
    page.get_by_role("button", name="Sign In").click()
    # "My vendors" links here to invite Friendly Motors.
    page.goto(f"{live_server.url}/requests/new/?invite={dealers['Friendly Motors'].pk}")
    page.get_by_label("What are you looking for?").select_option(label="— Cars")
    page.get_by_role("button", name="Next").click()
    audience = page.get_by_role("group", name="Who hears this request")
    expect(audience.get_by_label("Friendly Motors").first).to_be_checked()
    page.get_by_label("In a few words, what do you want?").fill("Toyota Yaris from 2006")
    page.get_by_label("Where").select_option("GB-LND")
    page.get_by_label("Budget, at most").fill("4000")
    page.get_by_label("Reach at most this many vendors").fill("600")
    page.get_by_role("button", name="Publish request").click()
    expect(page.locator(".has-error").filter(has_text="Choose from 1 to 500 vendors")).to_be_visible()
    assert not Intent.objects.filter(title__startswith="Toyota").exists()
    page.get_by_label("Reach at most this many vendors").fill("2")
    page.get_by_label("Lowest rating (stars)").fill("4")
    leave_out = page.get_by_role("group", name="Leave out vendors")
    leave_out.get_by_label("Pushy Cars").check()
    assert serious_violations(page) == []
    page.locator("fieldset.audience").screenshot(path=str(SCREENSHOTS / "audience-form-laptop.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator("fieldset.audience").screenshot(path=str(SCREENSHOTS / "audience-form-phone.png"))
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Publish request").click()
    expect(page.get_by_text("Your request is out.")).to_be_visible()

    intent = Intent.objects.get(title__startswith="Toyota")
    assert intent.audience_max == 2 and intent.audience_min_rating == Decimal("4.0")
    reached = set(Delivery.objects.filter(intent=intent).values_list("vendor__name", flat=True))
    # Invited first; then Yaris World, whose London subscription fits a London request best.
    assert reached == {"Friendly Motors", "Yaris World"}
    who = page.locator(".audience-status")
    expect(who).to_contain_text("2 vendors have it, at most 2 as you chose")
    expect(who.locator("tr", has_text="Friendly Motors")).to_contain_text("invited")
    expect(who).not_to_contain_text("Pushy Cars")

    # While she watches: Yaris World opens it and passes, Friendly Motors offers.
    pass_intent(vendor=dealers["Yaris World"], intent_id=intent.pk, reason="price")
    mark_seen(vendor=dealers["Friendly Motors"], intent_id=intent.pk)
    offer(dealers["Friendly Motors"], intent, "3800", year=2007, trim="T3")
    expect(who.locator("tr", has_text="Yaris World")).to_contain_text("Passed: cannot meet the budget", timeout=15_000)
    expect(page.locator(".audience-status tr", has_text="Friendly Motors")).to_contain_text(
        "Made an offer", timeout=15_000
    )
    assert serious_violations(page) == []
    page.locator(".audience-status").screenshot(path=str(SCREENSHOTS / "audience-status-laptop.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator(".audience-status").screenshot(path=str(SCREENSHOTS / "audience-status-phone.png"))
    assert serious_violations(page) == []
