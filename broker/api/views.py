"""The vendor API (v1). Thin: authenticate, parse, call a service or selector, render."""

from __future__ import annotations

from datetime import UTC
from typing import cast

from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from broker.api import serializers as s
from broker.api.base import ApiMixin
from broker.api.event_schemas import EventOutput
from broker.api.pagination import IdCursorPagination, OldestFirstCursorPagination
from broker.api.permissions import IsVendor
from broker.core.errors import NotFound
from broker.pipeline.vendor_view import (
    InboxRow,
    InboxStatementPage,
    annotated_deliveries,
    annotated_inbox,
    inbox_statement_applies,
    inbox_statement_view,
    inbox_statement_views,
    inbox_views,
)
from intents.models import Agreement, Category, Intent, Region
from intents.selectors import agreement_roster
from moderation.models import Report
from moderation.selectors import vendor_report, vendor_reports
from moderation.services import file_vendor_report, report_for_vendor
from reputation.models import Rating
from reputation.selectors import vendor_reputation
from reputation.services import rate
from vendors import agreements, deal, selectors, services, threads, webhooks
from vendors.events import vendor_events
from vendors.models import (
    AgreementRecord,
    Bid,
    DealOutcome,
    Delivery,
    Message,
    Subscription,
    Vendor,
    VendorEvent,
    WebhookAttempt,
    WebhookEndpoint,
)
from vendors.payloads import (
    answer_for_vendor,
    bid_for_vendor,
    counter_for_vendor,
    message_for_vendor,
    record_for_vendor,
)
from vendors.relationships import block_customer, handles_for_vendor


def _vendor(request: Request) -> Vendor:
    """The caller: ``VendorKeyAuthentication`` puts the Vendor in ``request.user``, and the
    default permission (``IsApprovedVendor``, an ``IsVendor``) lets nobody else through."""
    return cast(Vendor, request.user)


class MeView(ApiMixin, APIView):
    permission_classes = [IsVendor]

    @extend_schema(responses=s.MeOutput)
    def get(self, request):
        vendor = request.user
        return Response(
            {
                "id": vendor.pk,
                "name": vendor.name,
                "contact_email": vendor.contact_email,
                "status": vendor.status,
                "reputation": s.ReputationSerializer(vendor_reputation(vendor.pk)).data,
                "created_at": vendor.created_at,
            }
        )


class TaxonomyPagination(IdCursorPagination):
    """The taxonomy's lists: a few hundred categories or some 5,000 regions, big pages."""

    page_size = 500
    max_page_size = 1000


class CategoryPagination(TaxonomyPagination):
    """The default page holds every category, in tree order."""

    ordering = "path"


class CategoryList(ApiMixin, generics.ListAPIView):
    serializer_class = s.CategoryOutput
    queryset = Category.objects.order_by("path")
    pagination_class = CategoryPagination

    def get_serializer_context(self):
        # Each category's parent is the one at its path less one step: one query for them all.
        return {
            **super().get_serializer_context(),
            "category_slugs": dict(Category.objects.values_list("path", "slug")),
        }


class ApiFilterSet(filters.FilterSet):
    """A filter given blank (``?status=``) is a 400 naming it, as an invalid value is: django-filter
    would ignore it, and a client that meant a value would get everything."""

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name in self.filters:
            if name in self.data and self.data.get(name) == "":
                self.form.add_error(name, "Give a value, or leave the parameter out.")
                valid = False
        return valid


class RegionFilter(ApiFilterSet):
    parent = filters.CharFilter(field_name="parent__code", help_text="ISO code of the parent region")
    kind = filters.ChoiceFilter(choices=Region.Kind.choices)

    class Meta:
        model = Region
        fields = ["parent", "kind"]


class RegionPagination(TaxonomyPagination):
    ordering = "lft"


class RegionList(ApiMixin, generics.ListAPIView):
    """ISO 3166 regions as a tree; ``?kind=country`` for countries, ``?parent=GB`` for one level."""

    serializer_class = s.RegionOutput
    queryset = Region.objects.select_related("parent")
    filterset_class = RegionFilter
    pagination_class = RegionPagination


class SubscriptionViewSet(ApiMixin, viewsets.ModelViewSet):
    serializer_class = s.SubscriptionSerializer
    lookup_value_converter = "uuid"
    http_method_names = ["get", "post", "patch", "delete"]

    def get_queryset(self):
        return Subscription.objects.filter(vendor=_vendor(self.request)).prefetch_related("categories", "regions")

    def perform_create(self, serializer):
        serializer.instance = services.save_subscription(vendor=_vendor(self.request), **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.save_subscription(
            vendor=_vendor(self.request), subscription=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.delete_subscription(subscription=instance)


class UtcDateTimeFilter(filters.IsoDateTimeFilter):
    """An ISO 8601 time in any offset, compared in UTC (the database refuses odd offsets)."""

    def filter(self, qs, value):
        return super().filter(qs, value.astimezone(UTC) if value is not None else None)


class InboxFilter(ApiFilterSet):
    status = filters.ChoiceFilter(choices=Intent.Status.choices, method="filter_status")
    category = filters.CharFilter(method="filter_category", help_text="Category slug; includes its descendants.")
    since = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte", help_text="Delivered at or after.")

    class Meta:
        model = Delivery
        fields = ["status", "category", "since"]

    def filter_status(self, queryset, name, value):
        return queryset.filter(intent__status=value)

    def filter_category(self, queryset, name, value):
        category = Category.objects.filter(slug=value).first()
        if category is None:
            return queryset.none()
        return selectors.in_category(queryset, category)  # with its descendants


class MessagePagination(OldestFirstCursorPagination):
    ordering = ("created_at", "id")


class IntentViewSet(ApiMixin, viewsets.GenericViewSet):
    """The inbox: intents delivered to this vendor, newest first."""

    filterset_class = InboxFilter
    pagination_class = IdCursorPagination
    serializer_class = s.IntentOutput
    lookup_value_converter = "uuid"

    def get_queryset(self):
        return selectors.vendor_inbox(vendor=_vendor(self.request))

    @extend_schema(responses=s.IntentOutput(many=True))
    def list(self, request):
        filtered = any(name in request.query_params for name in InboxFilter.base_filters)
        if not filtered and inbox_statement_applies():
            # The unfiltered inbox, the one read most, in one hand-written statement of plain rows.
            # Not a QuerySet: DRF's cursor pagination only orders, filters and slices what it is given.
            rows = self.paginate_queryset(InboxStatementPage(request.user.pk))  # type: ignore[arg-type]
            assert rows is not None  # pagination_class is set
            return self.get_paginated_response(
                inbox_statement_views(vendor_id=request.user.pk, rows=cast(list[InboxRow], rows))
            )
        deliveries = self.filter_queryset(annotated_inbox(_vendor(request)).all())
        page = self.paginate_queryset(deliveries)
        assert page is not None  # pagination_class is set
        return self.get_paginated_response(inbox_views(vendor_id=request.user.pk, deliveries=page))

    @extend_schema(responses=s.IntentOutput)
    def retrieve(self, request, pk=None):
        if inbox_statement_applies():
            row, view = inbox_statement_view(vendor_id=request.user.pk, intent_id=pk)
            seen_at, intent_id = row.seen_at, row.intent_id
        else:
            delivery = selectors.inbox_delivery(
                vendor=_vendor(request), intent_id=pk, deliveries=annotated_deliveries(_vendor(request))
            )
            seen_at, intent_id = delivery.seen_at, delivery.intent_id
            view = inbox_views(vendor_id=request.user.pk, deliveries=[delivery])[0]
        if seen_at is None:  # a read writes only the first time
            services.mark_seen(vendor=request.user, intent_id=intent_id)
        return Response(view)

    @extend_schema(request=s.PassInput, responses={204: None})
    @action(detail=True, methods=["post"], url_path="pass")
    def pass_(self, request, pk=None):
        """Not interested, optionally with a reason from the list (she sees them counted, never
        who gave which): recorded on this vendor's delivery."""
        data = s.PassInput(data=request.data)
        data.is_valid(raise_exception=True)
        intent = selectors.delivered_intent(vendor=_vendor(request), intent_id=pk)
        services.pass_intent(vendor=_vendor(request), intent_id=intent.pk, reason=data.validated_data.get("reason", ""))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(methods=["GET"], responses=s.MessageOutput(many=True))
    @extend_schema(methods=["POST"], request=s.MessageInput, responses={201: s.MessageOutput})
    @action(detail=True, methods=["get", "post"], pagination_class=MessagePagination)
    def messages(self, request, pk=None):
        """The thread with this request's customer, oldest first; POST to write to her."""
        intent = selectors.delivered_intent(vendor=request.user, intent_id=pk)
        handle = handles_for_vendor(vendor_id=request.user.pk, customer_ids=[intent.customer_id])[intent.customer_id]
        if request.method == "POST":
            data = s.MessageInput(data=request.data)
            data.is_valid(raise_exception=True)
            message = threads.post_message(
                intent=intent, vendor=request.user, sender=Message.Sender.VENDOR, body=data.validated_data["body"]
            )
            return Response(message_for_vendor(message, handle=handle), status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(selectors.thread(intent=intent, vendor=request.user))
        assert page is not None  # pagination_class is set
        return self.get_paginated_response([message_for_vendor(m, handle=handle) for m in page])

    @extend_schema(methods=["GET"], summary="Your answer to her terms", responses=s.AgreementAnswerOutput)
    @extend_schema(
        methods=["POST"],
        summary="Answer her terms: accept, propose one alternative, or decline",
        request=s.AgreementAnswerInput,
        responses={
            200: s.AgreementAnswerOutput,
            409: OpenApiResponse(
                s.ApiErrorOutput,
                description="already_answered: you answered already; intent_closed: the request is closed.",
            ),
        },
    )
    @action(detail=True, methods=["get", "post"])
    def agreement(self, request, pk=None):
        """Answer the agreement she proffers (POST, once): accept it, propose one alternative from
        GET /api/v1/terms/ (she accepts or refuses it: events agreement.accepted / agreement.refused),
        or decline it (then you cannot bid). GET reads your answer (404 before you answered)."""
        vendor = _vendor(request)
        intent = selectors.delivered_intent(vendor=vendor, intent_id=pk)
        if request.method == "POST":
            data = s.AgreementAnswerInput(data=request.data)
            data.is_valid(raise_exception=True)
            proposed = data.validated_data.get("agreement") or {}
            agreements.answer_terms(
                vendor=vendor,
                intent_id=intent.pk,
                answer=data.validated_data["answer"],
                code=proposed.get("code"),
                version=proposed.get("version"),
            )
        answer, record = selectors.vendor_answer(vendor=vendor, intent=intent)
        if answer is None:
            raise NotFound("You have not answered her terms on this request.")
        handle = handles_for_vendor(vendor_id=vendor.pk, customer_ids=[intent.customer_id])[intent.customer_id]
        return Response(answer_for_vendor(answer, intent=intent, handle=handle, record=record))

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"])
    def block(self, request, pk=None):
        """Block this request's customer: no more of her requests reach this vendor."""
        intent = selectors.delivered_intent(vendor=request.user, intent_id=pk)
        handle = handles_for_vendor(vendor_id=request.user.pk, customer_ids=[intent.customer_id])[intent.customer_id]
        block_customer(vendor=request.user, handle=handle)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BidFilter(ApiFilterSet):
    status = filters.ChoiceFilter(choices=Bid.Status.choices)
    intent = filters.UUIDFilter(field_name="intent_id")

    class Meta:
        model = Bid
        fields = ["status", "intent"]


class BidViewSet(ApiMixin, viewsets.GenericViewSet):
    """Bid, revise, withdraw."""

    filterset_class = BidFilter
    serializer_class = s.BidOutput
    lookup_value_converter = "uuid"

    def get_queryset(self):
        return selectors.vendor_bids(vendor=_vendor(self.request))

    @extend_schema(responses=s.BidOutput(many=True))
    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        assert page is not None  # the default pagination applies
        return self.get_paginated_response([bid_for_vendor(bid) for bid in page])

    @extend_schema(
        request=s.BidInput,
        responses={
            201: s.BidOutput,
            404: OpenApiResponse(s.ApiErrorOutput, description="No such request in your inbox (`intent`)."),
            409: OpenApiResponse(
                s.ApiErrorOutput,
                description="You already bid on it (`already_bidding`: revise that bid), the request is closed "
                "(`intent_closed`), you declined her terms or your proposed agreement awaits her answer "
                "(`terms_not_agreed`; a bid without an answer to her terms accepts them), or a request with this "
                "Idempotency-Key is still running.",
            ),
        },
    )
    def create(self, request):
        data = s.BidInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        bid = services.place_bid(vendor=request.user, intent_id=fields.pop("intent"), **fields)
        return Response(bid_for_vendor(bid), status=status.HTTP_201_CREATED)

    @extend_schema(responses=s.BidDetailOutput)
    def retrieve(self, request, pk=None):
        """One of your bids, with her open request for a better offer, if any."""
        bid = selectors.vendor_bid(vendor=_vendor(request), bid_id=pk)
        counter = selectors.open_counter(bid=bid)
        return Response({**bid_for_vendor(bid), "counter": counter_for_vendor(counter) if counter else None})

    @extend_schema(request=None, responses=s.CounterOutput)
    @action(detail=True, methods=["post"], url_path="counter/decline")
    def decline_counter(self, request, pk=None):
        """Decline her request for a better offer: your offer stands as it is. (To accept it,
        revise the bid with PATCH.)"""
        bid = selectors.vendor_bid(vendor=_vendor(request), bid_id=pk)
        return Response(counter_for_vendor(deal.decline_counter(vendor=_vendor(request), bid=bid)))

    @extend_schema(request=s.OutcomeInput, responses={201: s.OutcomeOutput})
    @action(detail=True, methods=["post"])
    def outcome(self, request, pk=None):
        """Say how the agreed deal ended: completed, or fell through (with the reason)."""
        bid = selectors.vendor_bid(vendor=_vendor(request), bid_id=pk)
        data = s.OutcomeInput(data=request.data)
        data.is_valid(raise_exception=True)
        word = deal.mark_outcome(bid=bid, side=DealOutcome.Side.VENDOR, vendor=_vendor(request), **data.validated_data)
        return Response(deal.outcome_for_vendor(word), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.BidChangeInput,
        responses={
            200: s.BidOutput,
            409: OpenApiResponse(
                s.ApiErrorOutput,
                description="The bid is no longer active (`bid_not_active`), or its request is closed "
                "(`intent_closed`).",
            ),
        },
    )
    def partial_update(self, request, pk=None):
        bid = selectors.vendor_bid(vendor=request.user, bid_id=pk)
        data = s.BidChangeInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        return Response(bid_for_vendor(services.revise_bid(bid=bid, **data.validated_data)))

    @extend_schema(request=s.RatingInput, responses={201: s.RatingOutput})
    @action(detail=True, methods=["post"])
    def rating(self, request, pk=None):
        """Rate the customer after an accepted bid. Double-blind: revealed when she has rated
        you too, or when the rating window closes."""
        bid = selectors.vendor_bid(vendor=request.user, bid_id=pk)
        data = s.RatingInput(data=request.data)
        data.is_valid(raise_exception=True)
        rating = rate(bid=bid, by=Rating.Side.VENDOR, **data.validated_data)
        return Response(s.RatingOutput(rating).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={
            200: s.BidOutput,
            409: OpenApiResponse(s.ApiErrorOutput, description="The bid is no longer active (`bid_not_active`)."),
        }
    )
    def destroy(self, request, pk=None):
        """Withdraw the bid. The record stays, with status ``withdrawn``."""
        bid = selectors.vendor_bid(vendor=request.user, bid_id=pk)
        return Response(bid_for_vendor(deal.withdraw_bid(vendor=request.user, bid=bid)))


class EventList(ApiMixin, generics.ListAPIView):
    """Every event sent to this vendor, oldest first, with the same payloads as the webhooks."""

    serializer_class = EventOutput  # payload documented as the typed Event (broker.api.event_schemas)
    pagination_class = OldestFirstCursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no vendor
            return VendorEvent.objects.none()
        return vendor_events(vendor_id=_vendor(self.request).pk)


class RosterPagination(IdCursorPagination):
    """The roster is short; by code, each once (its current version)."""

    ordering = "code"


class TermsList(ApiMixin, generics.ListAPIView):
    """The roster of standard agreements: what a request may proffer and what you may propose
    instead (each code's current version)."""

    serializer_class = s.AgreementOutput
    pagination_class = RosterPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation reads no table
            return Agreement.objects.none()
        return agreement_roster()


class AgreementRecordList(ApiMixin, generics.ListAPIView):
    """The agreements you reached with customers, newest first: each names the customer by your
    handle for her, and carries the digest both sides hold."""

    serializer_class = s.AgreementRecordOutput
    pagination_class = IdCursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no vendor
            return AgreementRecord.objects.none()
        return selectors.vendor_agreement_records(vendor=_vendor(self.request))

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None  # pagination_class is set
        return self.get_paginated_response([record_for_vendor(record) for record in page])


class WebhookEndpointViewSet(
    ApiMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = s.WebhookEndpointOutput
    lookup_value_converter = "uuid"

    def get_queryset(self):
        return WebhookEndpoint.objects.filter(vendor=_vendor(self.request))

    @extend_schema(request=s.WebhookEndpointInput, responses={201: s.WebhookEndpointCreated})
    def create(self, request):
        data = s.WebhookEndpointInput(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = webhooks.register_endpoint(vendor=request.user, **data.validated_data)
        return Response(s.WebhookEndpointCreated(endpoint).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        webhooks.delete_endpoint(endpoint=instance)

    @extend_schema(request=None, responses={202: None})
    @action(detail=True, methods=["post"])
    def ping(self, request, pk=None):
        """Send a signed ``webhook.ping`` event to this endpoint."""
        webhooks.ping_endpoint(endpoint=self.get_object())
        return Response(status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=s.WebhookAttemptOutput(many=True))
    @action(detail=True, methods=["get"])
    def attempts(self, request, pk=None):
        """Every delivery attempt to this endpoint, newest first."""
        endpoint = get_object_or_404(self.get_queryset(), pk=pk)
        attempts = WebhookAttempt.objects.filter(delivery__endpoint=endpoint).select_related("delivery__event")
        self.pagination_class = AttemptPagination
        page = self.paginate_queryset(attempts)
        return self.get_paginated_response(s.WebhookAttemptOutput(page, many=True).data)


class AttemptPagination(IdCursorPagination):
    ordering = "-attempted_at"


class ReportViewSet(ApiMixin, viewsets.GenericViewSet):
    """Report a request or a customer's message to the moderators, and follow your reports and
    the reports about you (each step also comes as a ``report.updated`` event). A suspended
    vendor still sees its reports and their outcome."""

    serializer_class = s.ReportOutput
    lookup_value_converter = "uuid"

    def get_permissions(self):
        if self.action in ("list", "retrieve"):
            return [IsVendor()]
        return super().get_permissions()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no vendor
            return Report.objects.none()
        return vendor_reports(vendor=_vendor(self.request))

    @extend_schema(responses=s.ReportOutput(many=True))
    def list(self, request):
        """Your reports and the reports about you, newest first."""
        vendor = _vendor(request)
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None  # the default pagination applies
        return self.get_paginated_response([report_for_vendor(report, vendor_id=vendor.pk) for report in page])

    @extend_schema(
        request=s.ReportInput,
        responses={
            201: s.ReportOutput,
            404: OpenApiResponse(
                s.ApiErrorOutput, description="No such request in your inbox, or message from a customer to you."
            ),
            409: OpenApiResponse(
                s.ApiErrorOutput, description="You already have an open report about it (`already_reported`)."
            ),
        },
    )
    def create(self, request):
        """Report a request that reached your inbox or a customer's message to you, with a reason from the
        list. Moderators answer within the reason's response time (`respond_by`)."""
        data = s.ReportInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        report = file_vendor_report(vendor=_vendor(request), subject_id=fields.pop("id"), **fields)
        return Response(report_for_vendor(report, vendor_id=report.vendor_id), status=status.HTTP_201_CREATED)

    @extend_schema(responses=s.ReportOutput)
    def retrieve(self, request, pk=None):
        """One of your reports, or one about you: where it stands and, once closed, the outcome."""
        vendor = _vendor(request)
        return Response(report_for_vendor(vendor_report(vendor=vendor, report_id=pk), vendor_id=vendor.pk))
