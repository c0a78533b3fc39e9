"""Personal data in a request's text is found (each kind), an ordinary request raises no false
alarm, and redaction leaves the rest of the text as it was."""

import pytest

from intents.privacy import Kind, find_personal_data, kinds_found, redact

ORDINARY_CAR_REQUESTS = [
    "Low-mileage Toyota Yaris, T3 or TR spec, silver, UK, aircon, ideally 1.3 petrol, five doors, "
    "under 60,000 miles, 2015-2018, budget 6500",
    "Ford Fiesta Zetec 1.0 EcoBoost, 5dr, 2017 or newer, under 40k miles, full service history, £7,500 max",
    "VW Golf GTI Mk7, DSG, 2015-2019, 45000 km, Budget 25000 EUR",
    "Honda Jazz 1.4 i-VTEC auto, 2012-2016, ULEZ compliant, cat N not wanted, M25 area ok",
]


def kinds(text, **kwargs):
    return [(f.kind, f.text) for f in find_personal_data(text, **kwargs)]


@pytest.mark.parametrize("text", ORDINARY_CAR_REQUESTS)
def test_an_ordinary_car_request_raises_no_alarm(text):
    assert find_personal_data(text, country="GB", names=["Alice", "Liddell"]) == []


def test_an_ordinary_request_in_germany_raises_no_alarm():
    assert find_personal_data("Golf GTI 2.0 TSI 245 PS, 2019, 45000 km, Budget 25000 Euro", country="DE") == []


def test_an_email_address_is_found():
    assert kinds("Write to alice.liddell+cars@example.co.uk please") == [
        (Kind.EMAIL, "alice.liddell+cars@example.co.uk")
    ]


@pytest.mark.parametrize(
    ("text", "country", "number"),
    [
        ("call me on 07911 123456 after six", "GB", "07911 123456"),
        ("or ring +44 20 7946 0958", "GB", "+44 20 7946 0958"),
        ("Tel. 01 42 68 53 00 le soir", "FR", "01 42 68 53 00"),
        ("Telefon 030 1234567", "DE", "030 1234567"),
    ],
)
def test_a_phone_number_is_found_in_the_requests_country(text, country, number):
    assert kinds(text, country=country) == [(Kind.PHONE, number)]


@pytest.mark.parametrize(
    ("text", "country", "postcode"),
    [
        ("I am near SW1A 1AA", "GB", "SW1A 1AA"),
        ("collection from m1 1ae is fine", "GB", "m1 1ae"),
        ("livraison 75011 Paris", "FR", "75011 Paris"),
        ("Abholung 10115 Berlin", "DE", "10115 Berlin"),
        ("odbiór 00-950 Warszawa", "PL", "00-950"),
    ],
)
def test_a_postcode_is_found(text, country, postcode):
    assert (Kind.POSTCODE, postcode) in kinds(text, country=country)


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("I live at 1 Wonderland Road, come by", "1 Wonderland Road"),
        ("deliver to Flat 3, 14b High St.", "14b High St."),
        ("je suis au 12 rue de la Paix", "12 rue de la Paix"),
        ("Ich wohne Hauptstraße 5", "Hauptstraße 5"),
    ],
)
def test_a_street_address_is_found(text, address):
    assert (Kind.ADDRESS, address) in kinds(text)


def test_her_own_name_is_found_as_a_whole_word_in_any_case():
    found = kinds("I'm alice LIDDELL; Alicetown and Liddells are not me", names=["Alice", "Liddell"])
    assert found == [(Kind.NAME, "alice"), (Kind.NAME, "LIDDELL")]


def test_a_one_letter_or_empty_name_is_not_looked_for():
    assert find_personal_data("A Yaris, T3 spec", names=["A", ""]) == []


def test_redaction_replaces_each_find_and_keeps_the_rest():
    text = "Alice here: alice@example.com, 07911 123456, 1 Wonderland Road, SW1A 1AA. Silver Yaris please."
    findings = find_personal_data(text, country="GB", names=["Alice"])
    assert kinds_found(findings) == [
        "an email address",
        "a phone number",
        "a postcode",
        "a street address",
        "your name",
    ]
    redacted = redact(text, findings)
    assert redacted == (
        "[name removed] here: [email removed], [phone removed], [address removed], [postcode removed]. "
        "Silver Yaris please."
    )
    assert find_personal_data(redacted, country="GB", names=["Alice"]) == []


def test_overlapping_finds_keep_the_longer():
    # The email address contains her name: one find, the email.
    assert kinds("alice@example.com", names=["alice"]) == [(Kind.EMAIL, "alice@example.com")]
