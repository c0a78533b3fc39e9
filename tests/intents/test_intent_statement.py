"""The intent's hand-written statement (PostgreSQL: intents.selectors._IntentStatement) against the
ORM's select_related it replaces, for lock_intent (lock_intent_orm: the intent, customer, category
and agreement, locked) and for customer_intent (customer_intent_orm: the intent, category, region
and agreement): field by field and type by type, in one query; the same answers for somebody
else's request, a missing one and an id that is not one."""

import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from broker.core.errors import NotFound
from intents.models import Agreement
from intents.selectors import customer_intent, customer_intent_orm, lock_intent, lock_intent_orm
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
        terms={"contact_through_broker_only": True, "no_marketing": True},
        budget_max="4000.00",
        currency="GBP",
    )


def test_the_lock_reads_what_the_orm_reads(intent):
    assert connection.vendor == "postgresql"
    with transaction.atomic():
        with CaptureQueriesContext(connection) as captured:
            fast = lock_intent(intent_id=intent.pk)
            related = (fast.customer, fast.category, fast.agreement)  # cached: no query
        orm = lock_intent_orm(intent_id=str(intent.pk))
    assert len(captured) == 1 and "FOR UPDATE OF" in captured[0]["sql"]
    assert_same(fast, orm)
    for name, obj in zip(("customer", "category", "agreement"), related, strict=True):
        assert_same(obj, getattr(orm, name))
    assert isinstance(fast.agreement, Agreement) and fast.attributes["trim"] == ["T3"]


def test_by_customer_it_finds_hers_and_nobody_elses(intent):
    with transaction.atomic():
        assert_same(lock_intent(intent_id=intent.pk, customer=intent.customer), lock_intent_orm(intent_id=intent.pk))
        assert lock_intent(intent_id=intent.pk, customer=UserFactory()) is None


def test_a_missing_request_is_none_and_a_bad_id_refused_as_the_orm_refuses_it(intent):
    with transaction.atomic():
        assert lock_intent(intent_id=uuid.uuid4()) is None is lock_intent_orm(intent_id=uuid.uuid4())
        with pytest.raises(ValidationError):
            lock_intent_orm(intent_id="not-a-uuid")
        with pytest.raises(ValidationError):
            lock_intent(intent_id="not-a-uuid")
        assert lock_intent(intent_id=str(intent.pk)).pk == intent.pk  # still usable afterwards


@pytest.mark.django_db(transaction=True)
def test_the_row_is_locked(intent):
    """Another connection cannot take the row's lock while this transaction holds it."""
    with transaction.atomic():
        lock_intent(intent_id=intent.pk)
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SET lock_timeout = '50ms'")
                with pytest.raises(Exception, match="lock"):
                    cursor.execute("SELECT 1 FROM intents_intent WHERE id = %s FOR UPDATE NOWAIT", [intent.pk])
        finally:
            other.close()


@postgresql_only
def test_her_request_reads_what_the_orm_reads(intent):
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


def test_her_request_is_not_found_for_somebody_else_or_missing_and_a_bad_id_refused(intent):
    for find in (customer_intent, customer_intent_orm):
        with pytest.raises(NotFound):
            find(customer=UserFactory(), intent_id=intent.pk)
        with pytest.raises(NotFound):
            find(customer=intent.customer, intent_id=uuid.uuid4())
        with pytest.raises(ValidationError):
            find(customer=intent.customer, intent_id="not-a-uuid")
