"""A request's details are at most 5,000 characters: in the service and in the database."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from broker.models import OutboxEvent
from intents.models import MAX_DETAILS, Intent
from tests.factories import IntentFactory

pytestmark = pytest.mark.django_db


def test_publish_refuses_details_over_the_limit(customer, publish):
    with pytest.raises(ValidationError) as error:
        publish(customer, details="x" * (MAX_DETAILS + 1))
    assert error.value.message_dict["details"] == ["Keep the details to 5,000 characters at most."]
    assert not Intent.objects.exists() and not OutboxEvent.objects.exists()
    assert publish(customer, details="x" * MAX_DETAILS).details == "x" * MAX_DETAILS


def test_publish_refuses_a_bad_language(customer, publish):
    with pytest.raises(ValidationError) as error:
        publish(customer, language="not a language")
    assert "language" in error.value.message_dict


def test_the_model_validates_the_length(customer, categories, regions):
    intent = IntentFactory.build(customer=customer, category=categories["cars"], region=regions["GB"])
    intent.details = "x" * (MAX_DETAILS + 1)
    with pytest.raises(ValidationError) as error:
        intent.full_clean()
    assert "details" in error.value.message_dict


def test_the_database_refuses_a_200000_character_request(customer, categories, regions):
    """So a request that long can never reach matching."""
    with pytest.raises(IntegrityError), transaction.atomic():
        IntentFactory(customer=customer, category=categories["cars"], region=regions["GB"], details="x" * 200_000)
    assert not Intent.objects.exists()
