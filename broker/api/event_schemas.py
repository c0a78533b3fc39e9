"""The events a vendor is sent, typed: one serializer per event type (``EVENT_SERIALIZERS``, by
``VendorEvent.Kind``) describing the envelope ``{"type", "timestamp", "data"}`` that
``vendors.payloads.envelope`` builds, combined into one ``Event`` schema with a discriminator on
``type``. It documents the ``payload`` of GET /api/v1/events/ and, in OpenAPI 3.1, the schema's
``webhooks``: the same bodies are POSTed to the vendor's endpoints."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiWebhook, PolymorphicProxySerializer, extend_schema, extend_schema_field
from rest_framework import serializers

from broker.api import serializers as s
from intents.models import Intent
from vendors.models import VendorEvent

Kind = VendorEvent.Kind


class IntentWithdrawnData(s.IntentOutput):
    withdrawn_reason = serializers.ChoiceField(
        choices=[*Intent.CloseReason.values, "no_longer_matches"],
        help_text="Why it left your inbox: she closed it (withdrawn, bought_elsewhere, no_longer_needed), it expired, "
        "a moderator removed it, or she amended it so that it no longer matches your subscriptions.",
    )


class BidCounteredData(s.BidOutput):
    counter = s.CounterOutput(help_text="Her request for a better offer: answer by revising (PATCH) or declining.")


class DealUpdatedData(s.BidOutput):
    outcome = s.OutcomeOutput(help_text="What she said of how the deal ended.")


class RevealedRating(serializers.Serializer):
    score = serializers.IntegerField()
    comment = serializers.CharField(allow_blank=True)


class RatingRevealedData(serializers.Serializer):
    bid = serializers.UUIDField()
    intent = serializers.UUIDField()
    customer_rating = RevealedRating(allow_null=True, help_text="Hers of you; null if none or hidden by a moderator.")
    vendor_rating = RevealedRating(allow_null=True, help_text="Yours of her; null if none or hidden by a moderator.")


class IdentityRevealedData(serializers.Serializer):
    intent = serializers.UUIDField()
    customer = serializers.CharField(help_text="Your handle for the customer.")
    name = serializers.CharField()
    email = serializers.EmailField()
    phone = serializers.CharField(allow_blank=True)
    revealed_at = serializers.DateTimeField()


class WebhookPingData(serializers.Serializer):
    endpoint = serializers.UUIDField()


class WebhookEndpointDisabledData(serializers.Serializer):
    endpoint = serializers.UUIDField()
    url = serializers.URLField()
    reason = serializers.CharField()


# What ``data`` is, for each event type.
EVENT_DATA: dict[str, type[serializers.Serializer]] = {
    Kind.INTENT_MATCHED: s.IntentOutput,
    Kind.INTENT_UPDATED: s.IntentOutput,
    Kind.INTENT_WITHDRAWN: IntentWithdrawnData,
    Kind.BID_ACCEPTED: s.BidOutput,
    Kind.BID_DECLINED: s.BidOutput,
    Kind.BID_COUNTERED: BidCounteredData,
    Kind.DEAL_UPDATED: DealUpdatedData,
    Kind.REPORT_UPDATED: s.ReportOutput,
    Kind.MESSAGE_CREATED: s.MessageOutput,
    Kind.RATING_REVEALED: RatingRevealedData,
    Kind.IDENTITY_REVEALED: IdentityRevealedData,
    Kind.AGREEMENT_ACCEPTED: s.AgreementAnswerOutput,
    Kind.AGREEMENT_REFUSED: s.AgreementAnswerOutput,
    Kind.PING: WebhookPingData,
    Kind.ENDPOINT_DISABLED: WebhookEndpointDisabledData,
}


def _event_serializer(kind: str, data: type[serializers.Serializer]) -> type[serializers.Serializer]:
    name = "".join(part.capitalize() for part in kind.replace(".", "_").split("_")) + "Event"
    fields = {
        "type": serializers.ChoiceField(choices=[kind]),
        "timestamp": serializers.DateTimeField(help_text="When it happened."),
        "data": data(),
    }
    return type(
        name, (serializers.Serializer,), {"__module__": __name__, "__doc__": f"The ``{kind}`` event.", **fields}
    )


# One envelope serializer per event type: IntentMatchedEvent, BidCounteredEvent, ...
EVENT_SERIALIZERS: dict[str, type[serializers.Serializer]] = {
    str(kind): _event_serializer(str(kind), data) for kind, data in EVENT_DATA.items()
}

EVENT = PolymorphicProxySerializer(
    component_name="Event",
    serializers=dict(EVENT_SERIALIZERS),
    resource_type_field_name="type",
    many=False,
)


@extend_schema_field(EVENT)
class EventPayloadField(serializers.DictField):
    """The stored envelope as it is, documented as an ``Event``."""


class EventOutput(s.EventOutput):
    type = serializers.ChoiceField(choices=Kind.choices, source="kind")  # type: ignore[assignment]
    payload = EventPayloadField(help_text="Exactly the body of the webhook: an `Event` of this `type`.")


# OpenAPI 3.1 ``webhooks``: what is POSTed to a vendor's endpoints (listed in the settings'
# SPECTACULAR_SETTINGS["WEBHOOKS"] when the schema is OpenAPI 3.1).
EVENT_WEBHOOK = OpenApiWebhook(
    name="event",
    decorator=extend_schema(
        operation_id="event_webhook",
        summary="An event, POSTed to your webhook endpoints",
        description="Signed (Standard Webhooks headers: webhook-id, webhook-timestamp, webhook-signature); "
        "answer 2xx. Which types you get is the endpoint's `events`; the body is the `payload` of GET /api/v1/events/.",
        request=EVENT,
        responses={200: None},
    ),
)
