"""The vendor area's pages. Each one: who may open it (``access.vendor_area``), a form, one
vendors service, a template."""

from __future__ import annotations

from allauth.account import app_settings as allauth_settings
from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from allauth.account.utils import complete_signup
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST

from broker.vendor_site.access import refuse, vendor_area
from broker.vendor_site.forms import ApiKeyForm, InviteForm, NewLoginForm, VendorSignupForm, WebhookForm
from broker.vendor_site.navigation import nav_items
from vendors import selectors, team, webhooks
from vendors.models import ApiKey, WebhookEndpoint
from vendors.services import issue_api_key, revoke_api_key

ATTEMPTS_SHOWN = 50


def page(request: HttpRequest, template: str, context: dict, *, current: str = "", status: int = 200) -> HttpResponse:
    """Render a vendor-area page with its navigation."""
    membership = getattr(request, "membership", None)
    nav = nav_items(approved=membership.vendor.is_approved, current=current) if membership else []
    return render(request, f"vendor_site/{template}", {**context, "nav": nav}, status=status)


def secret_page(request: HttpRequest, template: str, context: dict, *, current: str) -> HttpResponse:
    """A page that shows a secret once: never cached, never kept by the browser."""
    response = page(request, template, context, current=current)
    add_never_cache_headers(response)
    return response


# Signing up --------------------------------------------------------------------------------


def signup(request: HttpRequest) -> HttpResponse:
    """A business signs up: its login (allauth, email confirmed by link) and the vendor, pending
    until an admin approves it. Nothing is saved unless every field is right."""
    if request.user.is_authenticated:
        if team.is_vendor_account(request.user):
            return redirect("vendor_site:dashboard")
        return refuse(request, "customer_account.html")
    form = VendorSignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user, response = form.try_save(request)
            if response is not None:  # the address has an account: allauth emails it, says nothing here
                return response
            try:
                team.sign_up_vendor(owner=user, contact_email=user.email, **form.profile)
            except ValidationError as error:
                transaction.set_rollback(True)
                form.add_service_errors(error)
                return render(request, "vendor_site/signup.html", {"form": form})
        return complete_signup(request, user, allauth_settings.EMAIL_VERIFICATION, reverse("vendor_site:dashboard"))
    return render(request, "vendor_site/signup.html", {"form": form})


# Dashboard ---------------------------------------------------------------------------------


@vendor_area(pending=True)
def dashboard(request: HttpRequest) -> HttpResponse:
    vendor = request.vendor  # type: ignore[attr-defined]
    verified = EmailAddress.objects.filter(user=request.user, email__iexact=request.user.email, verified=True).exists()  # type: ignore[union-attr]
    return page(
        request,
        "dashboard.html",
        {"vendor": vendor, "email_verified": verified, "summary": selectors.vendor_area_summary(vendor=vendor)},
        current="vendor_site:dashboard",
    )


# API keys ----------------------------------------------------------------------------------


@vendor_area()
def keys(request: HttpRequest) -> HttpResponse:
    vendor = request.vendor  # type: ignore[attr-defined]
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                api_key, raw_key = issue_api_key(vendor=vendor, name=form.cleaned_data["name"], actor=request.user)  # type: ignore[arg-type]
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            return secret_page(
                request, "key_created.html", {"api_key": api_key, "raw_key": raw_key}, current="vendor_site:keys"
            )
    return page(
        request,
        "keys.html",
        {"form": form, "keys": selectors.vendor_api_keys(vendor=vendor)},
        current="vendor_site:keys",
        status=400 if form.errors else 200,
    )


@vendor_area()
def key_revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    api_key = get_object_or_404(ApiKey, pk=key_id, vendor=request.vendor, revoked_at__isnull=True)  # type: ignore[attr-defined]
    if request.method == "POST":
        revoke_api_key(api_key=api_key, actor=request.user)  # type: ignore[arg-type]
        messages.success(request, f"Key {api_key.prefix}… ({api_key.name}) is revoked: calls with it now get 401.")
        return redirect("vendor_site:keys")
    return page(request, "key_revoke.html", {"api_key": api_key}, current="vendor_site:keys")


# Webhooks ----------------------------------------------------------------------------------


@vendor_area()
def webhook_list(request: HttpRequest) -> HttpResponse:
    vendor = request.vendor  # type: ignore[attr-defined]
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                endpoint = webhooks.register_endpoint(
                    vendor=vendor, url=form.cleaned_data["url"], events=form.cleaned_data["events"]
                )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            return secret_page(
                request,
                "webhook_secret.html",
                {"endpoint": endpoint, "secret": endpoint.secret, "created": True},
                current="vendor_site:webhooks",
            )
    return page(
        request,
        "webhooks.html",
        {"form": form, "endpoints": selectors.vendor_endpoints(vendor=vendor)},
        current="vendor_site:webhooks",
        status=400 if form.errors else 200,
    )


def _endpoint(request: HttpRequest, endpoint_id) -> WebhookEndpoint:
    return get_object_or_404(WebhookEndpoint, pk=endpoint_id, vendor=request.vendor)  # type: ignore[attr-defined]


@vendor_area()
def webhook_detail(request: HttpRequest, endpoint_id) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    attempts = selectors.endpoint_attempts(endpoint=endpoint)[:ATTEMPTS_SHOWN]
    return page(
        request,
        "webhook_detail.html",
        {"endpoint": endpoint, "attempts": attempts, "shown": ATTEMPTS_SHOWN, "now": timezone.now()},
        current="vendor_site:webhooks",
    )


@require_POST
@vendor_area()
def webhook_ping(request: HttpRequest, endpoint_id) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    if not endpoint.active:
        messages.error(request, "This endpoint is disabled; register it again once it works.")
    else:
        webhooks.ping_endpoint(endpoint=endpoint)
        messages.success(request, "A signed webhook.ping is on its way; its attempt appears below in a few seconds.")
    return redirect("vendor_site:webhook", endpoint_id=endpoint.pk)


@vendor_area()
def webhook_rotate(request: HttpRequest, endpoint_id) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    if request.method == "POST":
        secret = webhooks.rotate_secret(endpoint=endpoint, actor=request.user)  # type: ignore[arg-type]
        endpoint.refresh_from_db()
        return secret_page(
            request,
            "webhook_secret.html",
            {"endpoint": endpoint, "secret": secret, "created": False},
            current="vendor_site:webhooks",
        )
    overlap = settings.INTENTCAST["WEBHOOK_SECRET_OVERLAP"]
    return page(
        request,
        "webhook_rotate.html",
        {"endpoint": endpoint, "overlap_hours": round(overlap.total_seconds() / 3600)},
        current="vendor_site:webhooks",
    )


@vendor_area()
def webhook_delete(request: HttpRequest, endpoint_id) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    if request.method == "POST":
        webhooks.delete_endpoint(endpoint=endpoint)
        messages.success(request, f"{endpoint.url} no longer receives events.")
        return redirect("vendor_site:webhooks")
    return page(request, "webhook_delete.html", {"endpoint": endpoint}, current="vendor_site:webhooks")


# Team --------------------------------------------------------------------------------------


@vendor_area(pending=True)
def team_page(request: HttpRequest) -> HttpResponse:
    vendor, membership = request.vendor, request.membership  # type: ignore[attr-defined]
    form = InviteForm(request.POST or None) if membership.is_owner else None
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            team.invite_member(
                vendor=vendor,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, f"Invitation emailed to {form.cleaned_data['email']}.")
            return redirect("vendor_site:team")
    return page(
        request,
        "team.html",
        {
            "form": form,
            "members": selectors.vendor_members(vendor=vendor),
            "invitations": selectors.open_invitations(vendor=vendor),
        },
        current="vendor_site:team",
        status=400 if form is not None and form.errors else 200,
    )


@vendor_area(owner=True, pending=True)
def member_remove(request: HttpRequest, membership_id: int) -> HttpResponse:
    vendor = request.vendor  # type: ignore[attr-defined]
    member = get_object_or_404(selectors.vendor_members(vendor=vendor), pk=membership_id)
    error = None
    if request.method == "POST":
        try:
            team.remove_member(membership=member, by=request.user)  # type: ignore[arg-type]
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, f"{member.user.email} can no longer act for {member.vendor.name}.")
            if member.user_id == request.user.pk:
                return redirect("vendor_site:dashboard")
            return redirect("vendor_site:team")
    return page(request, "member_remove.html", {"member": member, "error": error}, current="vendor_site:team")


# Invitations -------------------------------------------------------------------------------


def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed link: join with a new vendor login, or with the vendor login already open."""
    found = team.invitation_for(token)
    if found is None:
        return render(request, "vendor_site/invitation_invalid.html", status=404)
    user = request.user
    if user.is_authenticated and not team.is_vendor_account(user):
        return refuse(request, "customer_account.html", {"invitation": found})
    if user.is_authenticated:
        error = None
        if request.method == "POST":
            try:
                team.accept_invitation(token=token, user=user)
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                messages.success(request, f"You now act for {found.vendor.name}.")
                return redirect("vendor_site:dashboard")
        return render(request, "vendor_site/invitation.html", {"invitation": found, "error": error})
    form = NewLoginForm(request.POST or None)
    taken = (
        EmailAddress.objects.filter(email__iexact=found.email).exists()
        or get_user_model().objects.filter(email__iexact=found.email).exists()
    )
    if request.method == "POST" and not taken and form.is_valid():
        try:
            with transaction.atomic():
                new_user = _new_vendor_login(request, email=found.email, password=form.cleaned_data["password1"])
                team.accept_invitation(token=token, user=new_user, new_account=True)
        except ValidationError as error:
            form.add_service_errors(ValidationError({"password1": error.messages}))
        else:
            login(request, new_user, backend="allauth.account.auth_backends.AuthenticationBackend")
            messages.success(request, f"Welcome: you now act for {found.vendor.name}.")
            return redirect("vendor_site:dashboard")
    return render(
        request,
        "vendor_site/invitation.html",
        {"invitation": found, "form": form, "taken": taken},
        status=400 if form.errors else 200,
    )


def _new_vendor_login(request: HttpRequest, *, email: str, password: str):
    """A login for an invited person. Its address is confirmed: the link was emailed to it."""
    adapter = get_adapter(request)
    user = adapter.new_user(request)
    user.email = email
    adapter.populate_username(request, user)
    validate_password(password, user)
    user.set_password(password)
    user.save()
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    return user
