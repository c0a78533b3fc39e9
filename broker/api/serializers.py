"""Input serializers parse; output serializers document the payloads of ``vendors.payloads`` and
``broker.pipeline.vendor_view``."""

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from broker.api.errors import error_codes
from broker.api.schema import NOT_BLANK
from broker.core.money import circulating_currencies
from intents.models import Category, Intent, Region
from moderation.models import MAX_TEXT, Report
from vendors.models import AgreementAnswer, Bid, BidCounter, DealOutcome, Delivery, Subscription, Vendor, VendorEvent


@extend_schema_field({"type": "string", "format": "decimal", "pattern": r"^\d{1,12}(\.\d{1,2})?$", "example": "120.00"})
class AmountField(serializers.DecimalField):
    """An amount of money: a decimal string, zero or more, up to two decimal places."""


@extend_schema_field(serializers.ChoiceField(choices=sorted(circulating_currencies().items())))
class CurrencyField(serializers.CharField):
    """An ISO 4217 code of a currency in circulation (``broker.core.money``)."""


@extend_schema_field(serializers.ChoiceField(choices=VendorEvent.Kind.choices))
class EventKindField(serializers.CharField):
    """The kind of an event (``VendorEvent.Kind``); the service says which are unknown."""


class MoneySerializer(serializers.Serializer):
    amount = AmountField(max_digits=14, decimal_places=2)
    currency = CurrencyField(help_text="ISO 4217 code")


class ReputationSerializer(serializers.Serializer):
    ratings = serializers.IntegerField()
    score = serializers.FloatField(allow_null=True)


class CustomerReputationSerializer(serializers.Serializer):
    band = serializers.ChoiceField(choices=["new", "excellent", "good", "mixed"])
    rated_deals = serializers.CharField()


class IdentitySerializer(serializers.Serializer):
    name = serializers.CharField()
    email = serializers.EmailField()
    phone = serializers.CharField()
    revealed_at = serializers.DateTimeField()


class CustomerSerializer(serializers.Serializer):
    handle = serializers.CharField(help_text="This vendor's own pseudonym for the customer.")
    reputation = CustomerReputationSerializer()
    identity = IdentitySerializer(
        allow_null=True, help_text="Who she is, only if she chose to tell you after accepting your bid."
    )


class BidPhotoOutput(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.URLField(help_text="Where the stored photo is served; a random name.")
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    content_type = serializers.ChoiceField(choices=["image/jpeg", "image/webp"])


class BidOutput(serializers.Serializer):
    id = serializers.UUIDField()
    intent = serializers.UUIDField()
    price = MoneySerializer()
    message = serializers.CharField()
    offered_attributes = serializers.DictField()
    valid_until = serializers.DateTimeField(allow_null=True)
    terms_accepted = serializers.DictField()
    photos = BidPhotoOutput(many=True, help_text="Up to 8, in order; add with POST .../photos/.")
    status = serializers.ChoiceField(choices=Bid.Status.choices)
    decline_reason = serializers.ChoiceField(
        choices=Bid.DeclineReason.choices, allow_null=True, help_text="Why it was declined, when it was."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class CounterOutput(serializers.Serializer):
    id = serializers.IntegerField()
    target_price = MoneySerializer(allow_null=True, help_text="The price she asks for, if she named one.")
    target_attributes = serializers.DictField(help_text="Offered values she asks for, if any.")
    note = serializers.CharField()
    status = serializers.ChoiceField(choices=BidCounter.Status.choices)
    created_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)


class BidDetailOutput(BidOutput):
    counter = CounterOutput(
        allow_null=True, help_text="Her open request for a better offer: answer by revising (PATCH) or declining."
    )


class MarketOutput(serializers.Serializer):
    offers = serializers.IntegerField(help_text="Active offers on the request, yours included.")
    best_price = MoneySerializer(allow_null=True, help_text="The lowest active offer; never who made it.")


@extend_schema_field(
    {
        "type": "object",
        "description": "Machine-readable clauses: each a flag (true) or, for delete_after_days, a number of days.",
        "properties": {
            "purpose_limited": {"type": "boolean", "description": "Use what you learn only for this request."},
            "no_marketing": {"type": "boolean", "description": "No marketing after this request."},
            "contact_through_broker_only": {"type": "boolean", "description": "Contact her only through intentcast."},
            "no_third_party_sharing": {"type": "boolean", "description": "Share nothing about her with third parties."},
            "delete_after_days": {
                "type": "integer",
                "minimum": 1,
                "description": "Delete what you hold about her this many days after the deal.",
            },
        },
        "additionalProperties": False,
    }
)
class ClausesField(serializers.DictField):
    """An agreement's clauses (``intents.terms.CLAUSES``)."""


class AgreementOutput(serializers.Serializer):
    code = serializers.SlugField(help_text="The agreement's stable id; with version, it names it exactly.")
    version = serializers.IntegerField(help_text="A version never changes once used; changes are new versions.")
    title = serializers.CharField()
    summary = serializers.CharField(help_text="In plain words.")
    clauses = ClausesField()


class AgreementRecordOutput(serializers.Serializer):
    id = serializers.IntegerField()
    intent = serializers.UUIDField()
    customer = serializers.CharField(help_text="Your handle for the customer.")
    agreement = AgreementOutput(help_text="The agreement reached, with its clauses as they were agreed.")
    reached_at = serializers.DateTimeField()
    digest = serializers.CharField(
        help_text="SHA-256 (hex) of the RFC 8785 canonical JSON of the facts: see docs/agreements.md."
    )


class AgreementAnswerOutput(serializers.Serializer):
    intent = serializers.UUIDField()
    customer = serializers.CharField(help_text="Your handle for the customer.")
    answer = serializers.ChoiceField(choices=AgreementAnswer.Answer.choices)
    implicit = serializers.BooleanField(help_text="True when you accepted by bidding without answering first.")
    terms = AgreementOutput(help_text="The agreement she proffers with the request.")
    proposed = AgreementOutput(allow_null=True, help_text="The alternative you proposed, if you did.")
    response = serializers.ChoiceField(
        choices=AgreementAnswer.Response.choices, allow_null=True, help_text="Her answer to your proposal."
    )
    answered_at = serializers.DateTimeField()
    responded_at = serializers.DateTimeField(allow_null=True)
    record = AgreementRecordOutput(allow_null=True, help_text="The agreement reached, once there is one.")


class AgreementRefInput(serializers.Serializer):
    code = serializers.SlugField(max_length=50)
    version = serializers.IntegerField(min_value=1, max_value=2147483647)


class AgreementAnswerInput(serializers.Serializer):
    answer = serializers.ChoiceField(
        choices=AgreementAnswer.Answer.choices,
        help_text="accept her agreement, propose one alternative from GET /api/v1/terms/, or decline (then you "
        "cannot bid on the request).",
    )
    agreement = AgreementRefInput(required=False, help_text="The alternative you propose; required with propose.")

    def validate(self, attrs):
        if attrs["answer"] == AgreementAnswer.Answer.PROPOSE and not attrs.get("agreement"):
            raise serializers.ValidationError({"agreement": ["Name the agreement you propose: its code and version."]})
        if attrs["answer"] != AgreementAnswer.Answer.PROPOSE and attrs.get("agreement"):
            raise serializers.ValidationError({"agreement": ["Only a proposal names an agreement."]})
        return attrs


class IntentOutput(serializers.Serializer):
    id = serializers.UUIDField()
    customer = CustomerSerializer()
    title = serializers.CharField()
    details = serializers.CharField()
    language = serializers.CharField()
    category = serializers.SlugField()
    attributes = serializers.DictField()
    region = serializers.CharField(help_text="ISO 3166 code")
    budget = MoneySerializer(allow_null=True)
    terms = serializers.DictField(
        help_text="Her agreement's clauses in the three-flag shape of API 1.1 (contact_through_broker_only, "
        "no_marketing, delete_data_after_days); read agreement for all of them."
    )
    agreement = AgreementOutput(
        help_text="The agreement she proffers: answer it with POST /api/v1/intents/{id}/agreement/; bidding "
        "without answering accepts it."
    )
    status = serializers.ChoiceField(choices=Intent.Status.choices)
    format = serializers.ChoiceField(
        choices=Intent.Format.choices,
        help_text="open: you see how many offers there are and the best price, and may improve yours; "
        "sealed: nobody sees any offer until sealed_until.",
    )
    sealed_until = serializers.DateTimeField(allow_null=True, help_text="A sealed request's deadline.")
    market = MarketOutput(allow_null=True, help_text="Open requests only.")
    revision = serializers.IntegerField(help_text="Goes up each time she amends the request.")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    bid = BidOutput(allow_null=True)


class MeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    contact_email = serializers.EmailField()
    status = serializers.ChoiceField(choices=Vendor.Status.choices)
    reputation = ReputationSerializer()
    created_at = serializers.DateTimeField()


class CategoryOutput(serializers.ModelSerializer):
    # A field named "parent": the stubs see Field.parent (the enclosing serializer), but the
    # serializer metaclass moves declared fields into _declared_fields, so nothing clashes.
    parent = serializers.SerializerMethodField()  # type: ignore[assignment]

    class Meta:
        model = Category
        fields = ["id", "slug", "name", "parent", "attributes"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_parent(self, category: Category) -> str | None:
        """The parent's slug: from the view's path -> slug map of the whole taxonomy when it
        gives one (``category_slugs``), else from one query."""
        slugs = self.context.get("category_slugs")
        if slugs is not None:
            return slugs.get(category.parent_path)
        parent = category.parent
        return parent.slug if parent is not None else None


class RegionOutput(serializers.ModelSerializer):
    parent: serializers.SlugRelatedField[Region] = serializers.SlugRelatedField(  # type: ignore[assignment]
        slug_field="code", read_only=True, allow_null=True
    )  # the stubs see Field.parent; declared fields go to _declared_fields (as above)

    class Meta:
        model = Region
        fields = ["code", "name", "kind", "subdivision_type", "parent"]


class SubscriptionSerializer(serializers.ModelSerializer):
    """Both directions: categories by slug, regions by ISO code."""

    categories = serializers.SlugRelatedField(slug_field="slug", many=True, queryset=Category.objects.all())
    regions = serializers.SlugRelatedField(slug_field="code", many=True, queryset=Region.objects.all())
    keywords = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=50)
    attribute_filters = serializers.DictField(required=False)
    min_budget = AmountField(max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True)
    # Whitespace is trimmed, so a blank code is refused: the pattern says so in the schema too.
    language = serializers.CharField(
        max_length=8, required=False, validators=[RegexValidator(NOT_BLANK, "Give a language code, such as en.")]
    )

    class Meta:
        model = Subscription
        fields = [
            "id",
            "name",
            "categories",
            "regions",
            "keywords",
            "language",
            "attribute_filters",
            "min_budget",
            "min_budget_currency",
            "daily_cap",
            "active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # PostgreSQL's range of a PositiveIntegerField, named here: otherwise the limit (and the
        # schema) would be the database's, wider on SQLite.
        extra_kwargs = {"daily_cap": {"max_value": 2147483647}}


class BidInput(serializers.Serializer):
    intent = serializers.UUIDField()
    amount = AmountField(max_digits=14, decimal_places=2, min_value=0)
    currency = CurrencyField(max_length=3, min_length=3)
    message = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    offered_attributes = serializers.DictField(required=False)
    valid_until = serializers.DateTimeField(required=False, allow_null=True)


class BidChangeInput(serializers.Serializer):
    amount = AmountField(max_digits=14, decimal_places=2, min_value=0, required=False)
    currency = CurrencyField(max_length=3, min_length=3, required=False)
    message = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    offered_attributes = serializers.DictField(required=False)
    valid_until = serializers.DateTimeField(required=False, allow_null=True)


class EventOutput(serializers.Serializer):
    id = serializers.CharField(source="message_id", help_text="The webhook-id of this event.")
    type = serializers.CharField(source="kind")
    created_at = serializers.DateTimeField()
    payload = serializers.DictField(help_text="Exactly the body of the webhook.")


class WebhookEndpointInput(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    events = serializers.ListField(child=EventKindField(), required=False)


class WebhookEndpointOutput(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.URLField()
    events = serializers.ListField(child=EventKindField())
    active = serializers.BooleanField()
    disabled_reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class WebhookEndpointCreated(WebhookEndpointOutput):
    secret = serializers.CharField(help_text="Shown once: keep it to verify signatures.")


class WebhookAttemptOutput(serializers.Serializer):
    event = serializers.CharField(source="delivery.event.message_id")
    type = serializers.CharField(source="delivery.event.kind")
    attempted_at = serializers.DateTimeField()
    succeeded = serializers.BooleanField()
    response_status = serializers.IntegerField(allow_null=True)
    latency_ms = serializers.IntegerField()
    error = serializers.CharField()


class PassInput(serializers.Serializer):
    reason = serializers.ChoiceField(
        choices=Delivery.PassReason.choices,
        required=False,
        allow_blank=True,
        help_text="Why you pass; she sees them counted.",
    )


class OutcomeInput(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=DealOutcome.Outcome.choices)
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Required when it fell through."
    )


class OutcomeOutput(serializers.Serializer):
    side = serializers.ChoiceField(choices=DealOutcome.Side.choices)
    outcome = serializers.ChoiceField(choices=DealOutcome.Outcome.choices)
    reason = serializers.CharField()
    at = serializers.DateTimeField()


class RatingInput(serializers.Serializer):
    score = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class RatingOutput(serializers.Serializer):
    bid = serializers.UUIDField(source="bid_id")
    score = serializers.IntegerField()
    comment = serializers.CharField()
    created_at = serializers.DateTimeField()
    revealed = serializers.SerializerMethodField(help_text="Ratings stay hidden until both sides rated.")

    def get_revealed(self, rating) -> bool:
        return rating.revealed_at is not None


class MessageInput(serializers.Serializer):
    body = serializers.CharField(max_length=5000)


class MessageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    intent = serializers.UUIDField()
    sender = serializers.ChoiceField(choices=["customer", "vendor"])
    customer = serializers.CharField(help_text="Your handle for the customer.")
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


class BidPhotoInput(serializers.Serializer):
    photo = serializers.FileField(
        help_text="A JPEG, PNG or WebP image (by its content, whatever its name). It is stored re-encoded, "
        "scaled down and without its metadata (EXIF, GPS position)."
    )


class ReportInput(serializers.Serializer):
    subject = serializers.ChoiceField(
        choices=[Report.Subject.REQUEST, Report.Subject.MESSAGE],
        help_text="What you report: a request in your inbox, or a customer's message to you.",
    )
    id = serializers.CharField(
        max_length=64, help_text="The request's id (a UUID) or the message's id (a whole number)."
    )
    reason = serializers.ChoiceField(choices=Report.Reason.choices)
    text = serializers.CharField(
        max_length=MAX_TEXT,
        required=False,
        allow_blank=True,
        default="",
        help_text="What is wrong, in your words; required when the reason is `other`.",
    )


class ReportSubjectOutput(serializers.Serializer):
    type = serializers.ChoiceField(choices=Report.Subject.choices)
    id = serializers.CharField(
        allow_null=True,
        help_text="The request's, message's or offer's id, or your vendor id for a report about you; null if "
        "the customer erased it.",
    )


class ReportOutput(serializers.Serializer):
    """A report you made or one about you. About you, it never says which customer made it, nor her words."""

    id = serializers.UUIDField()
    role = serializers.ChoiceField(
        choices=["reporter", "reported"], help_text="Whether you made the report or it is about you."
    )
    subject = ReportSubjectOutput()
    reason = serializers.ChoiceField(choices=Report.Reason.choices)
    text = serializers.CharField(allow_blank=True, help_text="Your words; empty in a report about you.")
    status = serializers.ChoiceField(
        choices=Report.Status.choices,
        help_text="open → in_review → resolved or dismissed; escalated on the way when a senior moderator decides.",
    )
    outcome = serializers.CharField(allow_blank=True, help_text="The moderator's decision, once resolved or dismissed.")
    respond_by = serializers.DateTimeField(help_text="When moderators are expected to have answered (by its reason).")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ApiErrorBody(serializers.Serializer):
    code = serializers.ChoiceField(choices=error_codes())
    message = serializers.CharField()

    def get_fields(self):
        # "fields" cannot be declared as an attribute: it is the serializer's own.
        fields = super().get_fields()
        fields["fields"] = serializers.DictField(
            required=False, help_text='The fields at fault, e.g. {"photo": ["…"]}.'
        )
        return fields


class ApiErrorOutput(serializers.Serializer):
    error = ApiErrorBody()
