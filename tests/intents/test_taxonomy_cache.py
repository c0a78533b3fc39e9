"""The matcher's and the pipeline's per-process memory of taxonomy look-ups (intents.taxonomy_cache)
follows the taxonomy when it changes: a moved category, a renumbered region tree, and, in other processes,
after ``TAXONOMY_CACHE_SECONDS``."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from intents.models import Category, Region
from intents.selectors import category_ancestor_ids, intent_with_places, region_ancestor_lfts
from intents.taxonomy import renumber_regions
from intents.taxonomy_cache import remembered
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
