"""What a vendor knows of a customer, and only by her choice: the pairwise handle it knows her
by, the blocks either side set, and the identity she may reveal to the vendor whose bid she
accepted."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from broker.core.bulk import filter_by_ids, insert_new
from broker.core.errors import IntentClosed, NotFound
from intents.models import Intent
from intents.selectors import customer_intent
from vendors.events import replace_vendor_event
from vendors.models import AudienceChoice, Bid, Block, IdentityReveal, Pseudonym, Vendor, VendorEvent, VendorNote
from vendors.selectors import history_vendor_ids

if TYPE_CHECKING:
    from django.contrib.auth.models import User

MAX_PHONE = 40
MAX_NOTE = 5000
# Up to this many vendors, a customer's handles are read and made in one statement; for more (a
# chunk of a big fan-out) reading them and then writing the missing ones by COPY (insert_new) is
# faster than sending every new handle through the statement's arrays.
ONE_STATEMENT_MAX = 1000


def ensure_pseudonyms(
    *, customer_id: int, vendor_ids: Iterable[int], known: Mapping[int, str] | None = None
) -> dict[int, str]:
    """The customer's handle for each vendor, made on first contact. Handles are random, so
    nothing about them links one vendor's view of the customer to another's. ``known``: the
    handles the caller has just read or made itself (``deliver``, in its one statement), so
    that only the rest are read or made here."""
    vendor_ids = list(dict.fromkeys(vendor_ids))
    if known is not None:
        handles = dict(known)
    elif in_one_statement(len(vendor_ids)):
        handles = _read_or_make_pseudonyms(connections[router.db_for_write(Pseudonym)], customer_id, vendor_ids)
    else:
        handles = handles_for_customer(customer_id=customer_id, vendor_ids=vendor_ids)
    for _attempt in range(3):
        missing = [vendor_id for vendor_id in vendor_ids if vendor_id not in handles]
        if not missing:
            break
        made = dict(zip(missing, new_handles(len(missing)), strict=True))
        now = timezone.now()
        inserted = insert_new(
            Pseudonym,
            ("customer", "vendor", "handle", "created_at"),
            [(customer_id, vendor_id, handle, now) for vendor_id, handle in made.items()],
        )
        if inserted == len(made):
            handles.update(made)
        else:  # another worker made some first (or, once in 2^64, a handle was taken): read them back
            handles.update(handles_for_customer(customer_id=customer_id, vendor_ids=missing))
    return handles


def new_handles(count: int) -> list[str]:
    """``count`` fresh random handles (64 bits each from ``secrets``), drawn at once: for a
    fan-out part of 50,000 vendors one draw instead of 50,000 took 45 ms off the part."""
    digits = secrets.token_hex(8 * count)
    return [f"c_{digits[start : start + 16]}" for start in range(0, len(digits), 16)]


def in_one_statement(vendors: int) -> bool:
    """Whether a customer's handles with this many vendors are read and made in one statement
    (``read_or_make_pseudonyms_sql``): on PostgreSQL, up to ``ONE_STATEMENT_MAX`` vendors."""
    return connections[router.db_for_write(Pseudonym)].vendor == "postgresql" and vendors <= ONE_STATEMENT_MAX


def read_or_make_pseudonyms_sql(database: BaseDatabaseWrapper, *, then: str = "") -> str:
    """The statement that returns a customer's existing handles with some vendors and makes new
    ones for the rest, on PostgreSQL: what the read and the insert of ``ensure_pseudonyms`` do
    in two round trips, which for the usual request (50 vendors) cost more than the rows.
    Hand-written because the ORM has no INSERT that reads back the rows it skipped. A pair
    another transaction is making at the same moment is left out (the read does not see it
    yet, the insert skips it); so is a handle that was taken; ``ensure_pseudonyms`` makes or
    reads those again. Its parameters are ``read_or_make_pseudonyms_params``'s; ``then`` adds
    data-modifying CTEs of the caller's (``deliver`` writes the deliveries in the same round
    trip), whose parameters follow."""
    table = database.ops.quote_name(Pseudonym._meta.db_table)
    return f"""
        WITH wanted AS (SELECT * FROM unnest(%s::bigint[], %s::varchar[]) AS w(vendor_id, handle)),
        existing AS (
            SELECT vendor_id, handle FROM {table} WHERE customer_id = %s::bigint AND vendor_id = ANY(%s::bigint[])
        ),
        made AS (
            INSERT INTO {table} (customer_id, vendor_id, handle, created_at)
            SELECT %s::bigint, w.vendor_id, w.handle, %s::timestamptz FROM wanted w
            WHERE NOT EXISTS (SELECT 1 FROM existing e WHERE e.vendor_id = w.vendor_id)
            ON CONFLICT DO NOTHING
            RETURNING vendor_id, handle
        ){then}
        SELECT vendor_id, handle FROM existing UNION ALL SELECT vendor_id, handle FROM made
    """  # noqa: S608 (the table name is the model's; every value is a parameter)


def read_or_make_pseudonyms_params(customer_id: int, vendor_ids: list[int], now: datetime) -> list[Any]:
    """The parameters of ``read_or_make_pseudonyms_sql``, with a fresh random handle for each vendor
    (used for those that have none yet)."""
    return [vendor_ids, new_handles(len(vendor_ids)), customer_id, vendor_ids, customer_id, now]


def _read_or_make_pseudonyms(database: BaseDatabaseWrapper, customer_id: int, vendor_ids: list[int]) -> dict[int, str]:
    """``read_or_make_pseudonyms_sql``, run: the handles it read or made, by vendor id."""
    if not vendor_ids:
        return {}
    with database.cursor() as cursor:
        cursor.execute(
            read_or_make_pseudonyms_sql(database),
            read_or_make_pseudonyms_params(customer_id, vendor_ids, timezone.now()),
        )
        return dict(cursor.fetchall())


def handles_for_customer(*, customer_id: int, vendor_ids: Iterable[int]) -> dict[int, str]:
    """The customer's existing handles with these vendors, by vendor id."""
    handles: dict[int, str] = {}
    for queryset in filter_by_ids(Pseudonym.objects.filter(customer_id=customer_id), "vendor", list(vendor_ids)):
        handles.update(queryset.values_list("vendor_id", "handle"))
    return handles


def handles_for_vendor(*, vendor_id: int, customer_ids: Iterable[int]) -> dict[int, str]:
    """The vendor's handles for these customers, by customer id."""
    return dict(
        Pseudonym.objects.filter(vendor_id=vendor_id, customer_id__in=set(customer_ids)).values_list(
            "customer_id", "handle"
        )
    )


def block_vendor(*, customer: User, vendor_id: int) -> Block:
    """The customer refuses a vendor: none of her requests reach it again."""
    block, _ = Block.objects.get_or_create(customer=customer, vendor_id=vendor_id, blocked_by=Block.Side.CUSTOMER)
    return block


def unblock_vendor(*, customer: User, vendor_id: int) -> bool:
    """The customer lifts her block: her new requests may reach the vendor again (unless the
    vendor blocked her). Returns whether there was a block to lift."""
    deleted, _ = Block.objects.filter(customer=customer, vendor_id=vendor_id, blocked_by=Block.Side.CUSTOMER).delete()
    return bool(deleted)


def has_blocked(*, customer: User, vendor_id: int) -> bool:
    """Whether the customer blocked this vendor."""
    return Block.objects.filter(customer=customer, vendor_id=vendor_id, blocked_by=Block.Side.CUSTOMER).exists()


def save_vendor_note(*, customer: User, vendor_id: int, body: str) -> VendorNote | None:
    """Her private note about a vendor, replacing the one before; an empty note deletes it.
    The note is hers alone: nothing a vendor is sent or can read includes it."""
    body = (body or "").strip()
    if len(body) > MAX_NOTE:
        raise ValidationError({"body": f"Keep your notes under {MAX_NOTE:,} characters."})
    if not Vendor.objects.filter(pk=vendor_id).exists():
        raise NotFound("No such vendor.")
    if not body:
        VendorNote.objects.filter(customer=customer, vendor_id=vendor_id).delete()
        return None
    note, _ = VendorNote.objects.update_or_create(customer=customer, vendor_id=vendor_id, defaults={"body": body})
    return note


def vendor_note(*, customer: User, vendor_id: int) -> VendorNote | None:
    return VendorNote.objects.filter(customer=customer, vendor_id=vendor_id).first()


def notes_of(*, customer: User) -> list[VendorNote]:
    """All her notes, with their vendors."""
    return list(VendorNote.objects.filter(customer=customer).select_related("vendor").order_by("vendor__name"))


def block_customer(*, vendor: Vendor, handle: str) -> Block:
    """A vendor blocks the customer it knows by ``handle``."""
    pseudonym = Pseudonym.objects.filter(vendor=vendor, handle=handle).first()
    if pseudonym is None:
        raise NotFound("No customer with that handle.")
    block, _ = Block.objects.get_or_create(
        customer_id=pseudonym.customer_id, vendor=vendor, blocked_by=Block.Side.VENDOR
    )
    return block


def blocked_vendor_ids(*, customer_id: int) -> set[int]:
    """Vendors either side has blocked: none of the customer's requests may reach them."""
    # A customer blocks few vendors, so reading all her blocks beats an IN list of every match.
    return set(Block.objects.filter(customer_id=customer_id).values_list("vendor_id", flat=True))


def identities_for_vendor(*, vendor_id: int, customer_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """What each of these customers chose to tell this vendor, by customer id."""
    return {
        reveal.customer_id: reveal.shared()
        for reveal in IdentityReveal.objects.filter(vendor_id=vendor_id, customer_id__in=set(customer_ids))
    }


def identities_for_customer(*, customer_id: int) -> dict[int, dict[str, str]]:
    """What the customer chose to tell each vendor she told, by vendor id (a few at most)."""
    return {reveal.vendor_id: reveal.shared() for reveal in IdentityReveal.objects.filter(customer_id=customer_id)}


def identities_shared_by(*, customer: User) -> list[IdentityReveal]:
    """Every identity the customer revealed, with its vendor."""
    return list(IdentityReveal.objects.filter(customer=customer).select_related("vendor"))


def blocks_of(*, customer: User) -> list[Block]:
    """Every block between her and a vendor, hers and the vendors', with the vendor."""
    return list(Block.objects.filter(customer=customer).select_related("vendor").order_by("created_at"))


def pseudonyms_of(*, customer: User) -> list[Pseudonym]:
    """The handle each vendor knows her by, with the vendor."""
    return list(Pseudonym.objects.filter(customer=customer).select_related("vendor").order_by("created_at"))


def vendors_blocked_by(*, customer: User) -> list[str]:
    """The names of the vendors the customer blocked."""
    blocks = Block.objects.filter(customer=customer, blocked_by=Block.Side.CUSTOMER)
    return list(blocks.values_list("vendor__name", flat=True))


def identity_shared_with(*, customer: User, vendor_id: int) -> IdentityReveal | None:
    return IdentityReveal.objects.filter(customer=customer, vendor_id=vendor_id).first()


def _clean_identity(name: str, email: str, phone: str) -> dict[str, str]:
    errors = {}
    name, email, phone = (name or "").strip(), (email or "").strip(), (phone or "").strip()
    if not name:
        errors["name"] = "Give the name the vendor should use."
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = "Enter a valid email address."
    if len(phone) > MAX_PHONE:
        errors["phone"] = f"Keep the phone number under {MAX_PHONE} characters."
    if errors:
        raise ValidationError(errors)
    return {"name": name, "email": email, "phone": phone}


@transaction.atomic
def reveal_identity(*, customer: User, intent_id: UUID | str, name: str, email: str, phone: str = "") -> IdentityReveal:
    """After accepting a bid, the customer tells that vendor, and no other, who she is.

    Only what she typed is shared; the vendor gets an ``identity.revealed`` event and from then
    on sees it with the intents of hers it holds. Telling the same vendor again updates it.
    """
    intent = customer_intent(customer=customer, intent_id=intent_id)
    accepted = Bid.objects.filter(intent=intent, status=Bid.Status.ACCEPTED).first()
    if accepted is None:
        raise IntentClosed("You can tell a vendor who you are once you have accepted its bid.")
    shared = _clean_identity(name, email, phone)
    reveal, _ = IdentityReveal.objects.update_or_create(
        customer=customer, vendor_id=accepted.vendor_id, defaults={"intent": intent, **shared}
    )
    handle = ensure_pseudonyms(customer_id=customer.pk, vendor_ids=[accepted.vendor_id])[accepted.vendor_id]
    replace_vendor_event(
        vendor_id=accepted.vendor_id,
        kind=VendorEvent.Kind.IDENTITY_REVEALED,
        subject=str(intent.pk),
        data={"intent": str(intent.pk), "customer": handle, **reveal.shared()},
    )
    return reveal


def clean_audience_choices(*, customer_id: int, invite: Iterable[int], exclude: Iterable[int]) -> dict[int, str]:
    """The vendors she names for a request, by vendor id (``invite`` or ``exclude``): each must
    be an approved vendor of her history (``vendors.selectors.history_vendor_ids``), and none
    both invited and excluded. One ``ValidationError`` keyed ``invite`` / ``exclude``."""
    invite, exclude = list(dict.fromkeys(invite)), list(dict.fromkeys(exclude))
    history = history_vendor_ids(customer_id=customer_id)
    approved = set(
        Vendor.objects.filter(pk__in=[*invite, *exclude], status=Vendor.Status.APPROVED).values_list("pk", flat=True)
    )
    known = history & approved
    errors: dict[str, str] = {}
    if any(vendor_id not in known for vendor_id in invite):
        errors["invite"] = "You can invite only vendors you have dealt with: choose from the list."
    if any(vendor_id not in known for vendor_id in exclude):
        errors["exclude"] = "Choose the vendors to leave out from the list."
    elif set(invite) & set(exclude):
        errors["exclude"] = "A vendor cannot be both invited and left out."
    if errors:
        raise ValidationError(errors)
    return {**dict.fromkeys(invite, AudienceChoice.Kind.INVITE), **dict.fromkeys(exclude, AudienceChoice.Kind.EXCLUDE)}


def set_audience_choices(*, intent: Intent, choices: dict[int, str]) -> None:
    """Replace the vendors she invited to or excluded from ``intent`` with ``choices`` (from
    ``clean_audience_choices``). The caller publishes or amends the intent in the same
    transaction, so the matcher, after commit, reads them together."""
    AudienceChoice.objects.filter(intent=intent).exclude(vendor_id__in=list(choices)).delete()
    current = dict(AudienceChoice.objects.filter(intent=intent).values_list("vendor_id", "kind"))
    for vendor_id, kind in choices.items():
        if vendor_id not in current:
            AudienceChoice.objects.create(intent=intent, vendor_id=vendor_id, kind=kind)
        elif current[vendor_id] != kind:
            AudienceChoice.objects.filter(intent=intent, vendor_id=vendor_id).update(kind=kind)
