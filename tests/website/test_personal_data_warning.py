"""Before a request is cast, the website checks its text for personal data: she is warned with
the finds highlighted and named, and chooses to have them removed (and review the result) or to
post anyway. The request form and the amend form alike."""

import pytest
from django.urls import reverse

from intents.models import Intent
from tests.website.test_requests import new_url, yaris_form

pytestmark = pytest.mark.django_db

PERSONAL = "Call Alice on 07911 123456 or alice@example.com; I'm at 1 Wonderland Road, SW1A 1AA."


@pytest.fixture
def signed_in(client, customer):
    customer.first_name, customer.last_name = "Alice", "Liddell"
    customer.save()
    client.force_login(customer)
    return client


def test_an_ordinary_request_is_posted_without_a_warning(signed_in, categories, regions):
    response = signed_in.post(
        new_url(categories),
        yaris_form(
            details="Low-mileage Toyota Yaris, T3 or TR spec, silver, UK, aircon, ideally 1.3 petrol, five doors, "
            "under 60,000 miles, 2015-2018, budget 6500"
        ),
    )
    assert response.status_code == 302 and Intent.objects.count() == 1


def test_personal_data_is_highlighted_and_named_and_nothing_is_posted(signed_in, categories, regions):
    response = signed_in.post(new_url(categories), yaris_form(details=PERSONAL))
    assert response.status_code == 200 and not Intent.objects.exists()
    page = response.content.decode()
    assert "Your request contains personal data" in page
    assert "an email address, a phone number, a postcode, a street address, your name" in page
    for found in ("07911 123456", "alice@example.com", "1 Wonderland Road", "SW1A 1AA", "Alice"):
        assert f">{found}</mark>" in page
    assert 'value="redact"' in page and 'value="post_anyway"' in page


def test_the_warning_escapes_her_text(signed_in, categories, regions):
    page = signed_in.post(new_url(categories), yaris_form(details="<b>bold</b> alice@example.com")).content.decode()
    assert "&lt;b&gt;bold&lt;/b&gt;" in page and "<b>bold</b>" not in page


def test_her_name_in_the_title_is_found_too(signed_in, categories, regions):
    page = signed_in.post(new_url(categories), yaris_form(title="Yaris for Alice Liddell")).content.decode()
    assert "<mark" in page and ">Liddell</mark>" in page and not Intent.objects.exists()


def test_remove_them_for_me_shows_the_redacted_text_for_review(signed_in, categories, regions):
    response = signed_in.post(new_url(categories), {**yaris_form(details=PERSONAL), "personal_data": "redact"})
    assert response.status_code == 200 and not Intent.objects.exists()
    page = response.content.decode()
    assert "We removed the personal data" in page
    assert (
        "Call [name removed] on [phone removed] or [email removed]; I&#x27;m at [address removed], [postcode removed]."
        in page
    )
    # She reviews it and publishes: nothing left to warn about.
    redacted = (
        "Call [name removed] on [phone removed] or [email removed]; I'm at [address removed], [postcode removed]."
    )
    response = signed_in.post(new_url(categories), yaris_form(details=redacted))
    assert response.status_code == 302
    assert Intent.objects.get().details == redacted


def test_post_anyway_publishes_it_as_written(signed_in, categories, regions):
    response = signed_in.post(new_url(categories), {**yaris_form(details=PERSONAL), "personal_data": "post_anyway"})
    assert response.status_code == 302
    assert Intent.objects.get().details == PERSONAL


def test_other_errors_are_shown_before_the_personal_data_check(signed_in, categories, regions):
    page = signed_in.post(new_url(categories), yaris_form(title="", details=PERSONAL)).content.decode()
    assert "This field is required." in page and "Your request contains personal data" not in page


@pytest.fixture
def open_request(customer, publish):
    return publish(customer)


def test_the_amend_form_warns_too(signed_in, open_request):
    url = reverse("intents:amend", args=[open_request.pk])
    data = {"details": "Ring me: 07911 123456", "budget_max": "4000", "attr_make": "Toyota"}
    response = signed_in.post(url, data)
    assert response.status_code == 200
    assert ">07911 123456</mark>" in response.content.decode()
    open_request.refresh_from_db()
    assert open_request.revision == 1
    response = signed_in.post(url, {**data, "personal_data": "redact"})
    assert "Ring me: [phone removed]" in response.content.decode()
    response = signed_in.post(url, {**data, "details": "Ring me: [phone removed]"})
    assert response.status_code == 302
    open_request.refresh_from_db()
    assert open_request.details == "Ring me: [phone removed]" and open_request.revision == 2


def test_the_amend_form_posts_anyway_on_her_word(signed_in, open_request):
    url = reverse("intents:amend", args=[open_request.pk])
    data = {"details": "Ring me: 07911 123456", "budget_max": "4000", "personal_data": "post_anyway"}
    assert signed_in.post(url, data).status_code == 302
    open_request.refresh_from_db()
    assert open_request.details == "Ring me: 07911 123456"
