"""A bid's offered attributes are values, not wishes: bad ones are a 400 naming the attribute."""

import pytest

from vendors.models import Bid

pytestmark = pytest.mark.django_db

URL = "/api/v1/bids/"


@pytest.fixture
def intent(vendor_client, customer, publish, subscribe):
    subscribe(vendor_client.vendor)
    return publish(customer, attributes={"make": "Toyota", "trim": ["T3", "TR"], "year": {"min": 2006}})


def offer(intent_, attributes):
    return {"intent": str(intent_.pk), "amount": "3750", "currency": "GBP", "offered_attributes": attributes}


def test_concrete_values_are_stored(vendor_client, intent):
    attributes = {"make": "Toyota", "model": "Yaris", "trim": "T3", "year": 2007, "mileage": 38000, "aircon": True}
    response = vendor_client.post(URL, offer(intent, attributes), format="json")
    assert response.status_code == 201, response.json()
    assert Bid.objects.get().offered_attributes == attributes


@pytest.mark.parametrize(
    ("attributes", "name", "message"),
    [
        ({"year": {"min": 2003, "max": 2006}}, "year", "Offer one number, not a range."),
        ({"year": 1800}, "year", "Enter a number from 1950 to"),
        ({"trim": ["T3", "TR"]}, "trim", "Offer exactly one of the choices."),
        ({"mileage": -5}, "mileage", "Enter a number: 0 or more."),
        ({"engine_size": 9}, "engine_size", "Enter a number from 0.6 to 8."),
        ({"make": "Ford", "model": "Yaris"}, "model", "Yaris does not go with Ford"),
        ({"aircon": "perhaps"}, "aircon", "Enter true or false."),
    ],
)
def test_bad_offer_values_are_400_with_the_attribute_and_save_nothing(vendor_client, intent, attributes, name, message):
    response = vendor_client.post(URL, offer(intent, {"make": "Toyota", **attributes}), format="json")
    assert response.status_code == 400, response.json()
    fields = response.json()["error"]["fields"]
    assert message in " ".join(fields["offered_attributes"][name]), fields
    assert not Bid.objects.exists()
