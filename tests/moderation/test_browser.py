"""Her report form and her held request in a real browser, at laptop and phone width, checked by
axe-core (the helpers of tests/website/test_browser.py)."""

import pytest
from playwright.sync_api import expect

from intents.models import ReviewRule
from moderation.models import Report
from tests.factories import VendorFactory
from tests.website.test_browser import ARGS, CHROMIUM, both_widths, browser, offer, signed_in_page

__all__ = ["ARGS", "CHROMIUM", "browser"]  # the fixture, used by name

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_she_reports_an_offer(browser, live_server, customer, publish, subscribe):
    dealer = VendorFactory(name="Yaris World")
    subscribe(dealer)
    intent = publish(customer, title="Silver Yaris")
    offer(dealer, intent, "3750", year=2016)
    page = signed_in_page(browser, live_server, customer)
    page.goto(f"{live_server.url}/requests/{intent.pk}/")
    page.get_by_role("link", name="Report Yaris World's offer").first.click()
    expect(page.get_by_role("heading", name="Report a problem")).to_be_visible()
    page.get_by_role("button", name="Send the report").click()
    expect(page.get_by_text("Choose what is wrong.")).to_be_visible()
    both_widths(page, "report-form-errors")
    page.get_by_label("Broke our agreement").check()
    page.get_by_label("Tell the moderators more").fill("The price went up by £300 when I went to collect the car.")
    both_widths(page, "report-form")
    page.get_by_role("button", name="Send the report").click()
    expect(page.get_by_text("your report was sent to our moderators")).to_be_visible()
    both_widths(page, "report-list")
    assert Report.objects.get().reason == "broke_agreement"


def test_she_sees_her_request_in_review(browser, live_server, customer, publish):
    ReviewRule.objects.create(kind="first_requests", count=1)
    intent = publish(customer, title="Silver Yaris")
    page = signed_in_page(browser, live_server, customer)
    page.goto(f"{live_server.url}/requests/{intent.pk}/")
    expect(page.get_by_text("In review: not sent to vendors yet")).to_be_visible()
    both_widths(page, "request-in-review")
    page.goto(f"{live_server.url}/requests/")
    expect(page.get_by_text("In review")).to_be_visible()
    both_widths(page, "request-list-in-review")
