"""The people of a vendor: a business signing up (its first owner), owners inviting members by
email, invitations accepted, members removed. A login that acts for a vendor is a vendor account
(``VendorMembership``): it never acts as a customer, so one login cannot sit on both sides of a
deal. See docs/vendors.md."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import connections, router, transaction
from django.utils import timezone

from broker.core.audit import record_audit
from broker.core.mail import email_after_commit
from intents.models import Category, Intent, Region
from vendors.models import Vendor, VendorInvitation, VendorMembership

if TYPE_CHECKING:
    from django.contrib.auth.models import User

NAME_MAX = 200
DESCRIPTION_MAX = 1000


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_vendor_account(user: User) -> bool:
    """Whether this login acts, or acted, for a vendor (and so is never a customer's).

    Plain SQL both backends run: every page of the website asks (``CustomerPagesMiddleware``),
    and the ORM's ``exists()`` took longer to build (about 0.4 ms of CPU) than to run."""
    if not user.is_authenticated:
        return False
    with connections[router.db_for_read(VendorMembership)].cursor() as cursor:
        cursor.execute(_MEMBER_SQL, [user.pk])
        return cursor.fetchone() is not None


_MEMBER_SQL = f"SELECT 1 FROM {VendorMembership._meta.db_table} WHERE user_id = %s LIMIT 1"  # noqa: S608 (a table name)


def current_membership(user: User) -> VendorMembership | None:
    """The membership this login acts through now, or None (a customer, or a removed member)."""
    if not user.is_authenticated:
        return None
    return VendorMembership.objects.select_related("vendor").filter(user=user, removed_at__isnull=True).first()


def clean_profile(
    *, name: str, website: str, description: str, categories: Iterable[Category], regions: Iterable[Region]
) -> dict[str, Any]:
    """The business's own words, checked once for the website and for any other entry point."""
    errors: dict[str, str] = {}
    name, website, description = (name or "").strip(), (website or "").strip(), (description or "").strip()
    if not name:
        errors["name"] = "Enter the name customers know your business by."
    elif len(name) > NAME_MAX:
        errors["name"] = f"Keep the name under {NAME_MAX} characters."
    if website:
        try:
            URLValidator(schemes=["http", "https"])(website)
        except ValidationError:
            errors["website"] = "Enter the full address of your website, starting with https://."
        if len(website) > 300:
            errors["website"] = "Keep the address under 300 characters."
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = f"Keep the description under {DESCRIPTION_MAX} characters."
    categories, regions = list(categories), list(regions)
    if not categories:
        errors["categories"] = "Choose at least one category you sell in."
    if not regions:
        errors["regions"] = "Choose at least one region you serve."
    if errors:
        raise ValidationError(errors)
    return {
        "name": name,
        "website": website,
        "description": description,
        "categories": categories,
        "regions": regions,
    }


@transaction.atomic
def sign_up_vendor(
    *,
    owner: User,
    name: str,
    contact_email: str,
    website: str = "",
    description: str = "",
    categories: Iterable[Category],
    regions: Iterable[Region],
) -> Vendor:
    """A business that signed itself up: pending until an admin approves it, ``owner`` its first
    owner. ``owner`` must be a fresh account (not a customer's, not another vendor's)."""
    profile = clean_profile(name=name, website=website, description=description, categories=categories, regions=regions)
    if Intent.objects.filter(customer=owner).exists() or VendorMembership.objects.filter(user=owner).exists():
        raise ValidationError({"email": "This account is already in use; a business needs an account of its own."})
    vendor = Vendor.objects.create(
        name=profile["name"],
        contact_email=contact_email,
        website=profile["website"],
        description=profile["description"],
    )
    vendor.categories.set(profile["categories"])
    vendor.regions.set(profile["regions"])
    VendorMembership.objects.create(vendor=vendor, user=owner, role=VendorMembership.Role.OWNER)
    record_audit(actor=None, action="vendor.signed_up", target=vendor)
    return vendor


@transaction.atomic
def invite_member(
    *, vendor: Vendor, email: str, role: str = VendorMembership.Role.MEMBER, invited_by: User
) -> tuple[VendorInvitation, str]:
    """An owner invites ``email``: the link with the token is emailed (after commit); the token
    is returned for the emailed link and never stored."""
    _require_owner(vendor=vendor, user=invited_by)
    email = (email or "").strip().lower()
    if role not in VendorMembership.Role.values:
        raise ValidationError({"role": "Choose owner or member."})
    if VendorMembership.objects.filter(vendor=vendor, user__email__iexact=email, removed_at__isnull=True).exists():
        raise ValidationError({"email": "This person is already in your team."})
    now = timezone.now()
    VendorInvitation.objects.filter(vendor=vendor, email__iexact=email, accepted_at__isnull=True).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    invitation = VendorInvitation.objects.create(
        vendor=vendor,
        email=email,
        role=role,
        digest=_digest(token),
        invited_by=invited_by,
        expires_at=now + timedelta(days=settings.INTENTCAST["VENDOR_INVITATION_DAYS"]),
    )
    record_audit(actor=invited_by, action="vendor.member_invited", target=vendor, email=email, role=role)
    email_after_commit(
        to=email,
        subject=f"Join {vendor.name} on intentcast",
        body=f"You are invited to act for {vendor.name} on intentcast as {invitation.get_role_display().lower()}.\n\n"
        f"Accept within {settings.INTENTCAST['VENDOR_INVITATION_DAYS']} days: "
        f"{settings.SITE_URL}/vendor/invitations/{token}/\n\n"
        "You will create a vendor login (or log in to yours). It cannot be used as a customer's account.",
    )
    return invitation, token


def invitation_for(token: str) -> VendorInvitation | None:
    """The open invitation this token belongs to, or None (unknown, used, revoked, expired)."""
    return (
        VendorInvitation.objects.select_related("vendor")
        .filter(
            digest=_digest(token or ""),
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .first()
    )


@transaction.atomic
def accept_invitation(*, token: str, user: User, new_account: bool = False) -> VendorMembership:
    """``user`` joins the vendor that invited it: an account created for it (``new_account``) or
    an existing vendor login. Refused for a customer's account and for a login that acts for
    another vendor now."""
    invitation = invitation_for(token)
    if invitation is None:
        raise ValidationError({"token": "This invitation is no longer valid: ask the owner for a new one."})
    if not new_account and not is_vendor_account(user):
        raise ValidationError({"user": "This is a customer's account; a vendor needs a login of its own."})
    current = current_membership(user)
    if current is not None and current.vendor_id != invitation.vendor_id:
        raise ValidationError({"user": f"This login acts for {current.vendor.name}; use another one."})
    membership, _ = VendorMembership.objects.update_or_create(
        vendor=invitation.vendor, user=user, defaults={"role": invitation.role, "removed_at": None}
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    record_audit(actor=user, action="vendor.member_joined", target=invitation.vendor, role=invitation.role)
    return membership


def add_owner(*, vendor: Vendor, user: User, actor: User | None = None) -> VendorMembership:
    """Make a new login ``user`` an owner of ``vendor``: how an operator (or the demo) gives a
    vendor it created its first person; everyone after joins by invitation. Refused for a login
    that acts for another vendor or has requests of its own (a customer's account)."""
    current = current_membership(user)
    if current is not None and current.vendor_id != vendor.pk:
        raise ValidationError({"user": f"This login acts for {current.vendor.name}; use another one."})
    if user.intents.exists():
        raise ValidationError({"user": "This is a customer's account; a vendor needs a login of its own."})
    membership, _ = VendorMembership.objects.update_or_create(
        vendor=vendor, user=user, defaults={"role": VendorMembership.Role.OWNER, "removed_at": None}
    )
    record_audit(actor=actor, action="vendor.member_joined", target=vendor, role=VendorMembership.Role.OWNER)
    return membership


@transaction.atomic
def remove_member(*, membership: VendorMembership, by: User) -> None:
    """An owner removes a member: from now on that login can no longer act for the vendor. The
    last owner cannot be removed (the vendor would have nobody to manage it)."""
    _require_owner(vendor=membership.vendor, user=by)
    if membership.removed_at is not None:
        return
    owners = VendorMembership.objects.select_for_update().filter(
        vendor_id=membership.vendor_id, role=VendorMembership.Role.OWNER, removed_at__isnull=True
    )
    if membership.is_owner and [m.pk for m in owners] == [membership.pk]:
        raise ValidationError({"member": "The last owner cannot be removed: make someone else owner first."})
    membership.removed_at = timezone.now()
    membership.save(update_fields=["removed_at"])
    record_audit(actor=by, action="vendor.member_removed", target=membership.vendor, user_id=membership.user_id)


def _require_owner(*, vendor: Vendor, user: User) -> None:
    if not VendorMembership.objects.filter(
        vendor=vendor, user=user, role=VendorMembership.Role.OWNER, removed_at__isnull=True
    ).exists():
        raise ValidationError({"member": "Only an owner can manage the team."})
