"""Her terms in a real browser: she chooses an agreement on the request form, sees a vendor's
proposed alternative appear beside the offers, and refuses it after confirming."""

import pytest
from playwright.sync_api import expect

from intents.models import Agreement, Intent
from tests.factories import VendorFactory
from tests.website.test_browser import SCREENSHOTS, browser, serious_violations  # noqa: F401 (the fixture)
from vendors.agreements import answer_terms
from vendors.models import AgreementAnswer, VendorEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_she_chooses_her_terms_and_refuses_a_vendors_proposal(browser, live_server, categories, regions, subscribe):  # noqa: F811
    dealer = VendorFactory(name="Yaris World")
    subscribe(dealer)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/accounts/signup/")
    page.get_by_label("Email:").fill("jane@example.com")
    page.get_by_label("Password:", exact=True).fill("a long unusual passphrase")
    page.get_by_label("Password (again):").fill("a long unusual passphrase")
    page.get_by_role("button", name="Sign Up").click()
    page.get_by_role("link", name="Post a request").first.click()
    page.get_by_label("What are you looking for?").select_option(label="— Cars")
    page.get_by_label("Country").select_option("GB")
    page.get_by_role("button", name="Next").click()

    expect(page.get_by_role("radio", name="Standard privacy", exact=True)).to_be_checked()  # the default
    page.get_by_role("radio", name="Strict privacy", exact=True).check()
    assert serious_violations(page) == []
    page.locator("fieldset.agreements").screenshot(path=str(SCREENSHOTS / "terms-choice.png"))
    page.get_by_label("In a few words, what do you want?").fill("Toyota Yaris, T3")
    page.get_by_label("Where").select_option("GB-LND")
    page.get_by_role("button", name="Publish request").click()
    expect(page.get_by_text("Your request is out.")).to_be_visible()
    intent = Intent.objects.get()
    assert intent.agreement.code == "strict"

    # The vendor proposes another agreement; it appears while she watches.
    answer_terms(vendor=dealer, intent_id=intent.pk, answer="propose", code="offers-welcome", version=1)
    proposal = page.locator(".terms-answers")
    expect(proposal).to_contain_text("Yaris World proposes “Offers welcome” instead of your terms", timeout=15_000)
    expect(proposal).to_contain_text(Agreement.objects.get(code="offers-welcome").summary)
    assert serious_violations(page) == []
    page.screenshot(path=str(SCREENSHOTS / "terms-proposal.png"), full_page=True)

    proposal.get_by_role("button", name="Refuse Yaris World's proposal").click()
    expect(page.get_by_role("heading", name="Yaris World proposes “Offers welcome”")).to_be_visible()
    expect(page.get_by_label("Refuse it and keep your terms")).to_be_checked()
    expect(page.get_by_text("Your answer is final")).to_be_visible()
    assert serious_violations(page) == []
    page.get_by_role("button", name="Confirm my answer").click()
    expect(page.get_by_text("Refused. Yaris World has been told")).to_be_visible()
    expect(page.locator(".terms-answers")).to_contain_text("proposed “Offers welcome”; you refused it")
    assert AgreementAnswer.objects.get().response == "refused"
    assert VendorEvent.objects.filter(vendor=dealer, kind="agreement.refused").exists()
