"""What every view of the vendor API has: rate limits counted before anything else
(broker.api.throttles) and ``Idempotency-Key`` on its POSTs (broker.api.idempotency)."""

from __future__ import annotations

from broker.api.idempotency import IdempotentPostMixin
from broker.api.throttles import ThrottleFirstMixin


class ApiMixin(ThrottleFirstMixin, IdempotentPostMixin):
    """Put first among an API view's bases."""
