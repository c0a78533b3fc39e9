"""publish_intent reads the category's schema, the default agreement and the active review rules
from the process's memory (``intents.taxonomy_cache``): a request costs its two inserts, and an
agreement or a rule saved in this process is seen by the next request."""

import pytest
from django.core.exceptions import ValidationError

from intents.models import Agreement, Intent, ReviewRule
from intents.services import publish_intent

pytestmark = pytest.mark.django_db


@pytest.fixture
def publish_plain(customer, categories, regions):
    def publish_(**data):
        fields = {"title": "Yaris", "category": categories["cars"], "region": regions["GB"], **data}
        return publish_intent(customer=customer, **fields)

    return publish_


def test_a_request_after_the_first_reads_nothing_before_its_inserts(publish_plain, django_assert_num_queries):
    publish_plain()  # reads, and marks the default agreement used
    publish_plain()  # reads the agreement now used, which is then remembered
    # The savepoint of publish_intent's atomic block (inside the test's transaction), the intent,
    # its outbox event, and the savepoint's release: 4, where it was 8 (the category's schema,
    # whether the roster exists, the default agreement, the active review rules).
    with django_assert_num_queries(4):
        intent = publish_plain(attributes={"make": "Toyota"})
    assert intent.agreement == Agreement.objects.default() and intent.attributes == {"make": "Toyota"}


def test_an_agreement_saved_here_is_seen_by_the_next_request(publish_plain):
    publish_plain()
    default = publish_plain().agreement
    assert publish_plain().agreement == default
    default.offered = False
    default.save()
    assert publish_plain().agreement != default


def test_the_caller_gets_its_own_copy_of_the_remembered_agreement(publish_plain):
    publish_plain()
    first, second = publish_plain().agreement, publish_plain().agreement
    assert first == second and first is not second


def test_a_review_rule_saved_here_holds_the_next_request(publish_plain):
    assert publish_plain(title="Replica watch").status == Intent.Status.OPEN
    rule = ReviewRule.objects.create(kind="word", text="replica")
    assert publish_plain(title="Replica watch").status == Intent.Status.IN_REVIEW
    rule.active = False
    rule.save()
    assert publish_plain(title="Replica watch").status == Intent.Status.OPEN


def test_other_processes_see_a_changed_rule_after_the_configured_time(publish_plain, settings):
    publish_plain(title="Replica watch")
    ReviewRule.objects.bulk_create([ReviewRule(kind="word", text="replica")])  # no signal: as if elsewhere
    assert publish_plain(title="Replica watch").status == Intent.Status.OPEN
    settings.INTENTCAST = {**settings.INTENTCAST, "TAXONOMY_CACHE_SECONDS": -1}
    assert publish_plain(title="Replica watch").status == Intent.Status.IN_REVIEW


def test_a_category_schema_saved_here_is_checked_by_the_next_request(publish_plain, categories):
    cars = categories["cars"]
    publish_plain(attributes={"make": "Toyota"})
    cars.attributes = [*cars.attributes, {"name": "colour", "label": "Colour", "type": "text", "required": True}]
    cars.save()
    with pytest.raises(ValidationError, match="colour"):
        publish_plain(attributes={"make": "Toyota"})
