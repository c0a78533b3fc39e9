"""The matcher's per-process memory of taxonomy look-ups (intents.taxonomy_cache) follows the
taxonomy when it changes: a moved category, a renumbered region tree, and, in other processes,
after ``TAXONOMY_CACHE_SECONDS``."""

import pytest

from intents.models import Category, Region
from intents.selectors import category_ancestor_ids, region_ancestor_lfts
from intents.taxonomy import renumber_regions
from intents.taxonomy_cache import remembered
from tests.factories import region


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
