"""factory_boy factories for the domain. Taxonomy rows are created per test (small trees);
the ISO regions come from ``region()`` which builds just the nodes a test names."""

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from intents.models import Category, Intent, Region
from intents.taxonomy import renumber_regions
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
    """A category by slug (the existing one if the slug is taken), added under ``parent`` (a
    root without one) through treebeard."""

    class Meta:
        model = Category

    slug = factory.Sequence(lambda n: f"category-{n}")
    name = factory.LazyAttribute(lambda c: c.slug.replace("-", " ").title())
    attributes = factory.LazyFunction(list)

    @classmethod
    def _create(cls, model_class, *args, parent: Category | None = None, **kwargs):
        existing = model_class.objects.filter(slug=kwargs["slug"]).first()
        if existing is not None:
            return existing
        node = model_class(*args, **kwargs)
        if parent is None:
            return model_class.objects.add_root(instance=node)
        return model_class.objects.add_child(parent, instance=node)


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


def region(code: str, parent: Region | None = None, name: str | None = None) -> Region:
    """A region by ISO code, under ``parent``; the tree is renumbered after each new node
    (``intents.taxonomy.renumber_regions``, as ``load_regions`` numbers it)."""
    kind = Region.Kind.COUNTRY if parent is None else Region.Kind.SUBDIVISION
    node, created = Region.objects.get_or_create(
        code=code, defaults={"name": name or code, "kind": kind, "parent": parent}
    )
    if created:
        renumber_regions()
        node.refresh_from_db()
    return node
