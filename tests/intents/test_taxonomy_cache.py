"""The per-process memory of taxonomy look-ups (intents.taxonomy_cache) follows the taxonomy
when it changes: a moved category, a renumbered region tree, a renamed category or region (the
inbox's names, the pipeline's intent), and, in other processes, after ``TAXONOMY_CACHE_SECONDS``."""

import json
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from intents.models import Agreement, Category, Region
from intents.selectors import (
    agreement_contents,
    category_ancestor_ids,
    category_slugs,
    intent_with_places,
    region_ancestor_lfts,
    region_codes,
)
from intents.taxonomy import renumber_regions
from intents.taxonomy_cache import forget_taxonomy, remembered, remembered_each
from tests.factories import IntentFactory, region


@pytest.mark.django_db
def test_a_moved_category_is_matched_under_its_new_parents(categories):
    vans, cars = categories["vans"], categories["cars"]
    small = Category.objects.create(slug="small-cars", name="Small cars", parent=cars)
    assert category_ancestor_ids(small) == (categories["vehicles"].pk, cars.pk, small.pk)
    cars.parent = vans
    cars.save()
    small.refresh_from_db()
    assert category_ancestor_ids(small) == (categories["vehicles"].pk, vans.pk, cars.pk, small.pk)


@pytest.mark.django_db
def test_a_region_added_above_is_seen_after_the_tree_is_renumbered(regions):
    london = regions["GB-LND"]
    assert region_ancestor_lfts(london) == [regions["GB"].lft, regions["GB-ENG"].lft]
    greater = region("GB-GLA", regions["GB-ENG"], "Greater London")
    Region.objects.filter(pk=london.pk).update(parent=greater)
    renumber_regions()
    london.refresh_from_db()
    gb, eng, gla = (Region.objects.get(code=c) for c in ("GB", "GB-ENG", "GB-GLA"))
    assert region_ancestor_lfts(london) == [gb.lft, eng.lft, gla.lft]


def test_other_processes_forget_after_the_configured_time(settings):
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert remembered("probe", compute) == 1
    assert remembered("probe", compute) == 1
    settings.INTENTCAST = {**settings.INTENTCAST, "TAXONOMY_CACHE_SECONDS": -1}
    assert remembered("probe", compute) == 2


@pytest.mark.django_db
def test_the_pipeline_reads_an_intents_places_from_memory_and_sees_them_change(customer, categories, regions):
    """``intent_with_places`` reads the intent alone and takes its category, region and agreement
    from the process's memory: one query once they are remembered, each intent its own copies,
    and a renamed category seen at once in the process that renamed it."""
    first = IntentFactory(customer=customer, category=categories["cars"], region=regions["GB-LND"])
    second = IntentFactory(customer=customer, category=categories["cars"], region=regions["GB-LND"])
    read = intent_with_places(intent_id=first.pk)
    assert (read.category.slug, read.region.code, read.agreement_id) == ("cars", "GB-LND", first.agreement_id)
    with CaptureQueriesContext(connection) as queries:
        again = intent_with_places(intent_id=second.pk)
    assert len(queries) == 1 and again.agreement.pk == first.agreement_id
    assert again.category is not read.category and again.region is not read.region
    cars = Category.objects.get(pk=categories["cars"].pk)
    cars.slug = "motor-cars"
    cars.save()
    assert intent_with_places(intent_id=first.pk).category.slug == "motor-cars"
    assert intent_with_places(intent_id=uuid.uuid4()) is None


def test_remembered_each_computes_only_what_it_does_not_hold_in_one_call():
    asked = []

    def compute(missing):
        asked.append(set(missing))
        return {key: key * 10 for key in missing if key != 3}  # 3 has no value: not remembered

    assert remembered_each("probe-each", [1, 2, 3], compute) == {1: 10, 2: 20}
    assert remembered_each("probe-each", [2, 3, 4], compute) == {2: 20, 4: 40}
    assert asked == [{1, 2, 3}, {3, 4}]
    assert remembered_each("other-kind", [1], compute) == {1: 10}  # kinds are apart
    forget_taxonomy()
    assert remembered_each("probe-each", [1], compute) == {1: 10}
    assert asked[-1] == {1}


@pytest.mark.django_db
def test_the_inbox_names_are_read_again_after_a_category_or_region_is_saved(categories, regions):
    cars, gb = categories["cars"], regions["GB"]
    assert category_slugs([cars.pk]) == {cars.pk: "cars"}
    assert region_codes([gb.pk]) == {gb.pk: "GB"}
    cars.slug = "motor-cars"
    cars.save()
    assert category_slugs([cars.pk]) == {cars.pk: "motor-cars"}
    assert region_codes([gb.pk]) == {gb.pk: "GB"}
    gb.code = "UK"
    gb.save()
    assert region_codes([gb.pk]) == {gb.pk: "UK"}


@pytest.mark.django_db
def test_each_caller_gets_its_own_copy_of_an_agreements_clauses():
    agreement = Agreement.objects.create(
        code="probe", version=1, title="Probe", summary="A probe.", clauses={"delete_after_days": 90}
    )
    code, version, title, summary, clauses = agreement_contents([agreement.pk])[agreement.pk]
    assert (code, version, title, summary, json.loads(clauses)) == (
        "probe",
        1,
        "Probe",
        "A probe.",
        {"delete_after_days": 90},
    )
    first = json.loads(clauses)
    first["delete_after_days"] = 1
    assert json.loads(agreement_contents([agreement.pk])[agreement.pk][4]) == {"delete_after_days": 90}
