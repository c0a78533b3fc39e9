"""customer_intent's hand-written statement (PostgreSQL) against the ORM's select_related it
replaces there (customer_intent_orm): the same intent, category, region and agreement, field by
field and type by type, in one query; NotFound for somebody else's request, a missing one, and an
id that is not one refused as the ORM refuses it."""

import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from broker.core.errors import NotFound
from intents.selectors import customer_intent, customer_intent_orm
from tests.factories import IntentFactory, UserFactory

pytestmark = pytest.mark.django_db
# The statements are PostgreSQL's; other databases run the ORM's querysets (nothing to compare).
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL statement")


def fields_of(obj):
    return {f.attname: (getattr(obj, f.attname), type(getattr(obj, f.attname))) for f in obj._meta.concrete_fields}


def assert_same(fast, orm):
    assert type(fast) is type(orm)
    assert fields_of(fast) == fields_of(orm)
    assert (fast._state.db, fast._state.adding) == (orm._state.db, orm._state.adding)


@pytest.fixture
def intent(categories, regions):
    return IntentFactory(
        category=categories["cars"],
        region=regions["GB-LND"],
        attributes={"make": "Toyota", "trim": ["T3"], "mileage": 40000},
        terms={"contact_through_broker_only": True},
        budget_max="4000.00",
        currency="GBP",
    )


@postgresql_only
def test_the_statement_reads_what_the_orm_reads(intent):
    with CaptureQueriesContext(connection) as captured:
        fast = customer_intent(customer=intent.customer, intent_id=intent.pk)
        related = (fast.category, fast.region, fast.agreement)  # cached: no query
    orm = customer_intent_orm(customer=intent.customer, intent_id=str(intent.pk))
    assert len(captured) == 1
    assert_same(fast, orm)
    for name, obj in zip(("category", "region", "agreement"), related, strict=True):
        assert_same(obj, getattr(orm, name))
    assert fast.attributes["trim"] == ["T3"] and fast.region.code == "GB-LND"
    assert_same(customer_intent(customer=intent.customer, intent_id=str(intent.pk)), orm)


def test_somebody_elses_or_a_missing_request_is_not_found_and_a_bad_id_refused(intent):
    for find in (customer_intent, customer_intent_orm):
        with pytest.raises(NotFound):
            find(customer=UserFactory(), intent_id=intent.pk)
        with pytest.raises(NotFound):
            find(customer=intent.customer, intent_id=uuid.uuid4())
        with pytest.raises(ValidationError):
            find(customer=intent.customer, intent_id="not-a-uuid")
