"""factory_boy factories for the domain. Taxonomy rows are created per test (small trees);
the ISO regions come from ``region()`` which builds just the nodes a test names."""

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from intents.models import Category, Intent, Region
from vendors.models import Vendor


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"customer{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"category-{n}")
    name = factory.LazyAttribute(lambda c: c.slug.replace("-", " ").title())
    attributes = factory.LazyFunction(list)


class VendorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vendor

    name = factory.Sequence(lambda n: f"Vendor {n}")
    contact_email = factory.Sequence(lambda n: f"sales{n}@vendor.example")
    status = Vendor.Status.APPROVED


class IntentFactory(factory.django.DjangoModelFactory):
    """An intent written directly, without the pipeline (use ``publish_intent`` for that)."""

    class Meta:
        model = Intent

    customer = factory.SubFactory(UserFactory)
    title = "Something"
    category = factory.SubFactory(CategoryFactory)
    region = None
    attributes = factory.LazyFunction(dict)
    terms = factory.LazyFunction(lambda: {"contact_through_broker_only": True})
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


def renumber_regions() -> None:
    """Pre-order numbering (the nested set) for whatever regions a test made."""
    children: dict = {}
    for region in Region.objects.order_by("code"):
        children.setdefault(region.parent_id, []).append(region)
    counter = 0

    def number(region: Region) -> None:
        nonlocal counter
        counter += 1
        region.lft = counter
        for child in children.get(region.pk, []):
            number(child)
        counter += 1
        region.rgt = counter
        region.save(update_fields=["lft", "rgt"])

    for root in children.get(None, []):
        number(root)


def region(code: str, parent: Region | None = None, name: str | None = None) -> Region:
    """A region by ISO code, under ``parent``; the tree is renumbered after each new node."""
    kind = Region.Kind.COUNTRY if parent is None else Region.Kind.SUBDIVISION
    node, created = Region.objects.get_or_create(
        code=code, defaults={"name": name or code, "kind": kind, "parent": parent}
    )
    if created:
        renumber_regions()
        node.refresh_from_db()
    return node
